"""``animstudio voice``: speak lines, list voices, transcribe recordings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from animstudio.cli import ui
from animstudio.cli.voice_dataset import dataset
from animstudio.cli.voice_lipsync import lipsync
from animstudio.options import with_options
from animstudio.voice.requests import BatchRequest, CheckRequest, Hearing, SayRequest, TranscribeRequest

app = typer.Typer(no_args_is_help=True)
WHO = {"character": "-c", "engine": "-e", "voice": "-v", "language": "-l"}   # today's short flags


def _hearing(check: Hearing, what: str) -> str:
    """One line on how ``what`` was heard back."""
    again = f" on a second take (the first: {check.attempts[0]:.0%})" if len(check.attempts) > 1 else ""
    verdict = "" if check.passed else ": failed the hearing check, listen to it"
    return f"{what} heard back as {check.heard!r} (word error rate {check.wer:.0%}{again}){verdict}"


@app.command("say")
@with_options(SayRequest, into="request", args=("text",), short=WHO | {"output": "-o"})
def say(
    text: str = typer.Argument(..., metavar="TEXT", help="The line to speak."),
    as_json: bool = typer.Option(False, "--json", help="Print the result (phoneme timings, check) as JSON."),
    request: Any = None,
) -> None:
    """Speak a line into a WAV file, or .flac, .ogg, .mp3 (with phoneme timings and mouth cues where the engine
    has them)."""
    from animstudio.voice.commands import say_to_file

    said = say_to_file(request)
    if as_json:
        ui.print_json(said.model_dump(mode="json", exclude_none=True))
        return
    ui.say(f"wrote {said.output} ({said.duration_s:.2f} s)" + (f" and {said.cues}" if said.cues else ""))
    if said.check:
        ui.say(_hearing(said.check, "the line"))


@app.command("check")
@with_options(CheckRequest, into="request", short=WHO)
def check_cmd(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    request: Any = None,
) -> None:
    """How well a voice speaks a language: sample lines spoken, transcribed back and scored (word error rate)."""
    from animstudio.errors import InvalidInputError
    from animstudio.files import read_text_file
    from animstudio.plugins import get_backend
    from animstudio.voice.characters import engine_for, get_character, say_as
    from animstudio.voice.qa import SAMPLE_LINES, check_voice, corpus_wer

    given = None
    language = request.language
    if request.lines is not None:   # a bad file fails before any voice is loaded
        given = [x.strip() for x in read_text_file(request.lines, "lines file").splitlines() if x.strip()]
        if not given:
            raise InvalidInputError(f"lines file {request.lines} has no lines; write one line to speak per line")
    if request.character:
        who = get_character(request.character)
        if language:
            who = who.model_copy(update={"language": language})
        tts = engine_for(who)
        language = who.language or tts.check_voice(who.voice, None)[1]

        def speak_line(line: str):  # type: ignore[no-untyped-def]
            return say_as(who, line, engine=tts)
    else:
        tts = get_backend("tts_engine", request.engine or "piper")()
        voice, language = tts.check_voice(request.voice, language)

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
    from animstudio.voice.characters import registry

    found = registry()
    rows, characters = found["voices"], found["characters"]
    if as_json:
        ui.print_json(found)
        return
    ui.table("voices", ["engine", "voice", "language"], [[r["engine"], r["voice"], r["language"]] for r in rows])
    if characters:
        ui.table("characters", ["character", "engine", "voice", "language", "emotions"],
                 [[c["character"], c["engine"], c["voice"], c["language"], ", ".join(c["emotions"])]
                  for c in characters])
    else:
        ui.say("no characters yet: describe them in characters.yaml in the studio home or this folder")


@app.command("transcribe")
@with_options(TranscribeRequest, into="request", args=("file",), short={"format": "-f", "output": "-o",
                                                                          "language": "-l"})
def transcribe(
    file: Path = typer.Argument(..., metavar="FILE", help="A recording or a video with sound."),
    request: Any = None,
) -> None:
    """Speech to text with word timings (faster-whisper base from the catalog)."""
    import json

    from animstudio.voice.commands import transcribe_file

    with ui.progress_bar() as on_progress:
        result = transcribe_file(request, on_progress=on_progress)
    if result.output is not None:
        ui.say(f"wrote {result.output} ({len(result.segments)} segments)")
    elif result.subtitles is not None:
        typer.echo(result.subtitles)
    else:
        typer.echo(json.dumps(result.model_dump(mode="json", include={"text", "language", "duration_s", "segments"}),
                              ensure_ascii=False, indent=2))


@app.command("batch")
@with_options(BatchRequest, into="request", args=("script",), short={"output": "-o"})
def batch(
    script: Path = typer.Argument(..., metavar="SCRIPT", help="Lines to speak: .yaml, .csv or .srt."),
    as_json: bool = typer.Option(False, "--json", help="Print the lines' manifest as JSON."),
    request: Any = None,
) -> None:
    """Speak a script: a WAV, phoneme timings and mouth cues per line, and one track with every line at
    its start (lines spoken before with the same voice and text come from the cache)."""
    import json

    from animstudio.voice.commands import speak_batch

    with ui.progress_bar() as on_progress:
        result = speak_batch(request, on_progress=on_progress)
    if as_json:
        ui.print_json(json.loads(Path(result.manifest).read_text(encoding="utf-8")))
        return
    ui.say(f"wrote {len(result.lines)} lines ({result.cached} from the cache) and {result.mix} to {result.folder}")
    for line in result.lines:
        check = line.hearing()
        if check is not None and not check.passed:
            ui.say(_hearing(check, f"line {line.index}"))


app.command("lipsync")(lipsync)
app.command("dataset")(dataset)
