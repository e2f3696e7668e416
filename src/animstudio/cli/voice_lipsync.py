"""``animstudio voice lipsync``: mouth cues (Rhubarb TSV/JSON, Moho .dat) for a recording, with a preview."""

from __future__ import annotations

from pathlib import Path

import typer

from animstudio.cli import ui

FORMATS = ("tsv", "json", "dat")


def lipsync(
    audio: Path = typer.Argument(..., metavar="AUDIO", help="The recording (any file with sound)."),
    text: str = typer.Option(None, "--text", "-t", help="What is said (better timing; English is force-aligned)."),
    text_file: Path = typer.Option(None, "--text-file", help="Read what is said from this UTF-8 file."),
    fmt: str = typer.Option(None, "--format", "-f", help="tsv, json or dat (default: from the output's suffix)."),
    output: Path = typer.Option(..., "--output", "-o", help="The cue file to write."),
    language: str = typer.Option("en", "--language", "-l", help="Language code of the speech (en, it...)."),
    preview: Path = typer.Option(None, "--preview", metavar="OUT.mp4", help="Also render a preview video."),
    shapes: Path = typer.Option(None, "--shapes", metavar="DIR", help="Mouth drawings for the preview "
                                                                       "(A.png ... F.png, optional G, H, X)."),
) -> None:
    """Mouth shapes A-H, X for a recording: forced alignment with the text, else speech recognition."""
    from animstudio.errors import InvalidInputError
    from animstudio.files import check_input_file, check_output_path
    from animstudio.voice.align import phoneme_timings
    from animstudio.voice.lipsync import mouth_cues, write_cues

    audio = check_input_file(audio, "audio file")
    kind = (fmt or output.suffix.lstrip(".")).lower()
    if kind not in FORMATS:
        raise InvalidInputError(f"unknown cue format {kind or 'for an output without a suffix'!r}; "
                                f"use --format tsv, json or dat")
    if text is not None and text_file is not None:
        raise InvalidInputError("pass the text once: --text or --text-file, not both")
    if text_file is not None:
        try:
            text = check_input_file(text_file, "text file").read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInputError(f"text file {text_file} is not UTF-8 text; save it as UTF-8") from exc
    if text is not None and not text.strip():
        raise InvalidInputError("the text is empty; pass what is said, or leave --text out to recognise it")
    from animstudio.voice.asr import check_language
    from animstudio.voice.phonemize import espeak_voice

    language = check_language(language)
    if language != "en":
        espeak_voice(language)               # one espeak-ng cannot phonemize fails before the work too
    check_output_path(output, "cue file")
    if preview is not None:
        from animstudio.voice.preview import find_shapes

        find_shapes(shapes)                  # a bad drawings folder fails before the work starts
        check_output_path(preview, "preview")
    elif shapes is not None:
        raise InvalidInputError("--shapes is for the preview; add --preview OUT.mp4")

    from animstudio.media import probe

    duration = probe(audio).duration_s
    with ui.progress_bar() as on_progress:
        cues = mouth_cues(phoneme_timings(audio, text, language), duration)
        write_cues(cues, output, kind, duration_s=duration, sound_file=audio.name)
        if preview is not None:
            from animstudio.voice.preview import render_preview

            render_preview(cues, audio, preview, shapes_dir=shapes, on_progress=on_progress)
    spoken = sum(1 for c in cues if c.shape != "X")
    ui.say(f"wrote {output} ({len(cues)} cues, {spoken} speaking, {duration:.2f} s)"
           + (f" and {preview}" if preview is not None else ""))
