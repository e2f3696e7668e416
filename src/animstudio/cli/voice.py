"""``animstudio voice``: speak lines, list voices, transcribe recordings."""

from __future__ import annotations

from pathlib import Path

import typer

from animstudio.cli import ui

app = typer.Typer(no_args_is_help=True)


@app.command("say")
def say(
    text: str = typer.Argument(..., metavar="TEXT", help="The line to speak."),
    output: Path = typer.Option(..., "--output", "-o", help="The WAV to write."),
    engine: str = typer.Option("piper", "--engine", "-e", help="TTS engine (see `animstudio voice voices`)."),
    voice: str = typer.Option(None, "--voice", "-v", help="A voice of the engine (default: its first)."),
    rate: float = typer.Option(1.0, "--rate", help="Speaking rate (1 = the voice's own)."),
    pitch: float = typer.Option(0.0, "--pitch", help="Pitch shift, semitones."),
    emotion: str = typer.Option("neutral", "--emotion", help="neutral, happy, sad, angry, excited, whisper, "
                                                              "scared, sarcastic (markup in TEXT: [excited], "
                                                              "[pause 0.4], *stress*)."),
    cues: Path = typer.Option(None, "--cues", help="Also write mouth cues: .tsv, .json (Rhubarb) or .dat (Moho)."),
    as_json: bool = typer.Option(False, "--json", help="Print the phoneme timings as JSON."),
) -> None:
    """Speak a line into a WAV file (with phoneme timings and mouth cues where the engine has them)."""
    from animstudio.plugins import get_backend
    from animstudio.voice.base import Prosody
    from animstudio.voice.prosody import speak

    tts = get_backend("tts_engine", engine)()
    speech = speak(tts, text, voice=voice, emotion=emotion, base=Prosody(rate=rate, pitch_semitones=pitch))
    path = speech.write(output)
    if cues is not None:
        from animstudio.voice.lipsync import mouth_cues, write_cues

        write_cues(mouth_cues(speech.phonemes, speech.duration_s), cues, duration_s=speech.duration_s,
                   sound_file=path.name)
    if as_json:
        phonemes = [{"phoneme": p.text, "start": p.start_s, "end": p.end_s} for p in speech.phonemes]
        ui.print_json({"output": str(path), "duration_s": round(speech.duration_s, 3),
                       "sample_rate": speech.sample_rate, "phonemes": phonemes})
        return
    ui.say(f"wrote {path} ({speech.duration_s:.2f} s)")


@app.command("voices")
def voices(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Engines and their voices, with the language each speaks."""
    from animstudio.plugins import backends

    rows = [{"engine": name, "voice": v, "language": ", ".join(langs)}
            for name, cls in sorted(backends("tts_engine").items()) for v, langs in sorted(cls().voices().items())]
    if as_json:
        ui.print_json(rows)
        return
    ui.table("voices", ["engine", "voice", "language"], [[r["engine"], r["voice"], r["language"]] for r in rows])


@app.command("transcribe")
def transcribe(
    file: Path = typer.Argument(..., metavar="FILE", help="A recording or a video with sound."),
    fmt: str = typer.Option("json", "--format", "-f", help="srt, vtt or json."),
    output: Path = typer.Option(None, "--output", "-o", help="Write here instead of printing."),
    language: str = typer.Option(None, "--language", "-l", help="Language code (en, it...); default: detected."),
) -> None:
    """Speech to text with word timings (faster-whisper base from the catalog)."""
    import json

    from animstudio.errors import InvalidInputError
    from animstudio.voice.asr import get_transcriber, write_transcript

    if fmt not in ("srt", "vtt", "json"):
        raise InvalidInputError(f"unknown format {fmt!r}; use srt, vtt or json")
    with ui.progress_bar() as on_progress:
        transcript = get_transcriber().transcribe(file, language=language, on_progress=on_progress)
    if output is not None:
        write_transcript(transcript, output, fmt)
        ui.say(f"wrote {output} ({len(transcript.segments)} segments)")
    elif fmt == "json":
        typer.echo(json.dumps(transcript.to_json(), ensure_ascii=False, indent=2))
    else:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            typer.echo(write_transcript(transcript, Path(tmp) / f"out.{fmt}", fmt).read_text(encoding="utf-8"))
