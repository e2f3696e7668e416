"""``animstudio voice``: speak lines, list voices, transcribe recordings."""

from __future__ import annotations

from pathlib import Path

import typer

from animstudio.cli import ui
from animstudio.cli.voice_dataset import dataset
from animstudio.cli.voice_lipsync import lipsync

app = typer.Typer(no_args_is_help=True)
WER_WARNING = 0.2   # a line heard back with more word errors than this is flagged


@app.command("say")
def say(
    text: str = typer.Argument(..., metavar="TEXT", help="The line to speak."),
    output: Path = typer.Option(..., "--output", "-o", help="The file to write: .wav, .flac, .ogg or .mp3."),
    character: str = typer.Option(None, "--character", "-c", help="A character of the voice registry "
                                                                  "(characters.yaml; see `animstudio voice voices`)."),
    engine: str = typer.Option(None, "--engine", "-e", help="TTS engine (default piper; see `voice voices`)."),
    voice: str = typer.Option(None, "--voice", "-v", help="A voice of the engine (default: its first)."),
    language: str = typer.Option(None, "--language", "-l", help="Language code (en, it...); default the voice's."),
    rate: float = typer.Option(1.0, "--rate", help="Speaking rate (1 = the voice's own)."),
    pitch: float = typer.Option(0.0, "--pitch", help="Pitch shift, semitones."),
    emotion: str = typer.Option("neutral", "--emotion", help="neutral, happy, sad, angry, excited, whisper, "
                                                              "scared, sarcastic (markup in TEXT: [excited], "
                                                              "[pause 0.4], *stress*)."),
    url: str = typer.Option(None, "--url", help="The GPT-SoVITS server (gpt-sovits engine)."),
    cues: Path = typer.Option(None, "--cues", help="Also write mouth cues: .tsv, .json (Rhubarb) or .dat (Moho)."),
    check: bool = typer.Option(False, "--check", help="Transcribe the line back and report its word error rate."),
    as_json: bool = typer.Option(False, "--json", help="Print the phoneme timings as JSON."),
) -> None:
    """Speak a line into a WAV file, or .flac, .ogg, .mp3 (with phoneme timings and mouth cues where the engine
    has them)."""
    from animstudio.errors import InvalidInputError
    from animstudio.files import atomic_output, check_output_file
    from animstudio.plugins import get_backend
    from animstudio.voice.base import AUDIO_FORMATS, Prosody
    from animstudio.voice.characters import engine_for, get_character, say_as
    from animstudio.voice.lipsync import CUE_SUFFIXES
    from animstudio.voice.prosody import speak
    from animstudio.voice.text import check_length

    check_length(text)
    Prosody(rate=rate, pitch_semitones=pitch)          # out of range: one line naming the value
    output = check_output_file(output, "speech", tuple(AUDIO_FORMATS))
    if cues is not None:
        cues = check_output_file(cues, "cue file", CUE_SUFFIXES)
    if character:
        if engine or voice:
            raise InvalidInputError("--character brings its own engine and voice; drop --engine/--voice, or drop "
                                    "--character")
        who = get_character(character)
        if language or url or rate != 1.0 or pitch:
            who = who.model_copy(update={"language": language or who.language, "options": who.options | (
                {"url": url} if url else {}), "prosody": who.prosody.model_copy(update={
                    "rate": who.prosody.rate * rate, "pitch_semitones": who.prosody.pitch_semitones + pitch})})
        speech = say_as(who, text, emotion=emotion, engine=engine_for(who))
    else:
        cls = get_backend("tts_engine", engine or "piper")
        tts = cls(url=url) if url and "url" in cls.Options.model_fields else cls()
        speech = speak(tts, text, voice=voice, emotion=emotion, base=Prosody(rate=rate, pitch_semitones=pitch),
                       language=language)
    heard = None
    if check:
        from animstudio.voice.qa import hear_back

        heard = hear_back(speech, text)
    with atomic_output(output, "speech") as tmp:   # the speech and its cues, or nothing
        speech.write(tmp)
        if cues is not None:
            from animstudio.voice.lipsync import cues_for_speech, write_cues

            write_cues(cues_for_speech(speech, tmp, text), cues, cues.suffix.lstrip(".").lower(),
                       duration_s=speech.duration_s, sound_file=output.name)
    if as_json:
        phonemes = [{"phoneme": p.text, "start": p.start_s, "end": p.end_s} for p in speech.phonemes]
        ui.print_json({"output": str(output), "duration_s": round(speech.duration_s, 3),
                       "sample_rate": speech.sample_rate, "language": speech.language, "phonemes": phonemes}
                      | ({"check": {"heard": heard.heard, "wer": round(heard.wer, 4)}} if heard else {}))
        return
    ui.say(f"wrote {output} ({speech.duration_s:.2f} s)" + (f" and {cues}" if cues is not None else ""))
    if heard:
        verdict = "" if heard.wer <= WER_WARNING else f": more than {WER_WARNING:.0%} off, listen to it"
        ui.say(f"heard back: {heard.heard!r} (word error rate {heard.wer:.0%}{verdict})")


@app.command("check")
def check_cmd(
    character: str = typer.Option(None, "--character", "-c", help="A character of the voice registry."),
    engine: str = typer.Option(None, "--engine", "-e", help="TTS engine (default piper)."),
    voice: str = typer.Option(None, "--voice", "-v", help="A voice of the engine."),
    language: str = typer.Option(None, "--language", "-l", help="Language of the sample lines (en, it); default "
                                                                "the voice's."),
    lines_file: Path = typer.Option(None, "--lines", help="A UTF-8 file of lines to use instead, one per line."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """How well a voice speaks a language: sample lines spoken, transcribed back and scored (word error rate)."""
    from animstudio.errors import InvalidInputError
    from animstudio.files import read_text_file
    from animstudio.plugins import get_backend
    from animstudio.voice.characters import engine_for, get_character, say_as
    from animstudio.voice.qa import SAMPLE_LINES, check_voice, corpus_wer

    given = None
    if lines_file is not None:   # a bad file fails before any voice is loaded
        given = [x.strip() for x in read_text_file(lines_file, "lines file").splitlines() if x.strip()]
        if not given:
            raise InvalidInputError(f"lines file {lines_file} has no lines; write one line to speak per line")
    if character:
        who = get_character(character)
        if language:
            who = who.model_copy(update={"language": language})
        tts = engine_for(who)
        language = who.language or tts.check_voice(who.voice, None)[1]

        def speak_line(line: str):  # type: ignore[no-untyped-def]
            return say_as(who, line, engine=tts)
    else:
        tts = get_backend("tts_engine", engine or "piper")()
        voice, language = tts.check_voice(voice, language)

        def speak_line(line: str):  # type: ignore[no-untyped-def]
            return tts.synthesize(line, voice=voice, language=language)
    lines = given if given is not None else SAMPLE_LINES.get(language or "en", [])
    if not lines:
        raise InvalidInputError(f"no sample lines in {language!r} (there are: {', '.join(SAMPLE_LINES)}); "
                                "pass your own with --lines FILE")
    with ui.progress_bar() as on_progress:
        checks = check_voice(speak_line, lines, on_progress)
    rows = [{"text": c.text, "heard": c.heard, "wer": round(c.wer, 4)} for c in checks]
    total = round(corpus_wer(checks), 4)
    if as_json:
        ui.print_json({"language": language, "wer": total, "lines": rows})
        return
    ui.table("heard back", ["wer", "line", "heard"], [[f"{r['wer']:.0%}", r["text"], r["heard"]] for r in rows])
    ui.say(f"word error rate over {len(rows)} lines: {total:.1%}")


@app.command("voices")
def voices(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Engines and their voices with the languages each speaks, and the characters of the voice registry."""
    from animstudio.plugins import backends
    from animstudio.voice.characters import load_characters

    rows = [{"engine": name, "voice": v, "language": ", ".join(langs)}
            for name, cls in sorted(backends("tts_engine").items()) for v, langs in sorted(cls().voices().items())]
    characters = [{"character": c.name, "engine": c.engine, "voice": c.voice or "", "language": c.language or "",
                   "emotions": sorted(c.emotions), "source": c.source} for c in load_characters().values()]
    if as_json:
        ui.print_json({"voices": rows, "characters": characters})
        return
    ui.table("voices", ["engine", "voice", "language"], [[r["engine"], r["voice"], r["language"]] for r in rows])
    if characters:
        ui.table("characters", ["character", "engine", "voice", "language", "emotions"],
                 [[c["character"], c["engine"], c["voice"], c["language"], ", ".join(c["emotions"])]
                  for c in characters])
    else:
        ui.say("no characters yet: describe them in characters.yaml in the studio home or this folder")


@app.command("transcribe")
def transcribe(
    file: Path = typer.Argument(..., metavar="FILE", help="A recording or a video with sound."),
    fmt: str = typer.Option(None, "--format", "-f", help="srt, vtt or json (default: the output's suffix, "
                                                         "else json)."),
    output: Path = typer.Option(None, "--output", "-o", help="Write here (.srt, .vtt or .json) instead of "
                                                             "printing."),
    language: str = typer.Option(None, "--language", "-l", help="Language code (en, it...); default: detected."),
) -> None:
    """Speech to text with word timings (faster-whisper base from the catalog)."""
    import json

    from animstudio.errors import InvalidInputError
    from animstudio.files import check_input_file, check_output_file
    from animstudio.voice.asr import FORMATS, check_language, get_transcriber, write_transcript

    if fmt is not None and fmt.lower() not in FORMATS:
        raise InvalidInputError(f"unknown format {fmt!r}; use srt, vtt or json")
    if output is not None:   # checked before any work
        output = check_output_file(output, "transcript", tuple(f".{f}" for f in FORMATS))
        named = output.suffix.lower().lstrip(".")
        if fmt is not None and fmt.lower() != named:
            raise InvalidInputError(f"--format {fmt} but the output {output.name} is named .{named}; make them "
                                    f"agree, e.g. -o {output.with_suffix('.' + fmt.lower()).name} (or leave --format "
                                    "out: the suffix picks the format)")
        fmt = named
    fmt = (fmt or "json").lower()
    if language:
        language = check_language(language)
    check_input_file(file, "audio file")
    with ui.progress_bar() as on_progress:
        transcript = get_transcriber().transcribe(file, language=language, on_progress=on_progress)
    if not transcript.text.strip():
        raise InvalidInputError(f"no speech found in {file}: it holds silence, music or noise, so there is "
                                "nothing to transcribe")
    if output is not None:
        write_transcript(transcript, output, fmt)
        ui.say(f"wrote {output} ({len(transcript.segments)} segments)")
    elif fmt == "json":
        typer.echo(json.dumps(transcript.to_json(), ensure_ascii=False, indent=2))
    else:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            typer.echo(write_transcript(transcript, Path(tmp) / f"out.{fmt}", fmt).read_text(encoding="utf-8"))


@app.command("batch")
def batch(
    script: Path = typer.Argument(..., metavar="SCRIPT", help="Lines to speak: .yaml, .csv or .srt."),
    output: Path = typer.Option(..., "--output", "-o", help="The folder for the WAVs, cues and the mixed track."),
    check: bool = typer.Option(False, "--check", help="Transcribe each line back and record its word error rate."),
    as_json: bool = typer.Option(False, "--json", help="Print the lines' manifest as JSON."),
) -> None:
    """Speak a script: a WAV, phoneme timings and mouth cues per line, and one track with every line at
    its start (lines spoken before with the same voice and text come from the cache)."""
    import json

    from animstudio.voice.batch import speak_script

    with ui.progress_bar() as on_progress:
        result = speak_script(script, output, on_progress=on_progress, check=check)
    if as_json:
        ui.print_json(json.loads(result.manifest.read_text(encoding="utf-8")))
        return
    ui.say(f"wrote {len(result.lines)} lines ({result.cached} from the cache) and {result.mix} to {output}")
    for line in result.lines:
        if line.wer is not None and line.wer > WER_WARNING:
            ui.say(f"line {line.index} heard back as {line.heard!r} (word error rate {line.wer:.0%}): listen to it")


app.command("lipsync")(lipsync)
app.command("dataset")(dataset)
