"""``animstudio voice dataset``: per-speaker training clips, a GPT-SoVITS list and a report from film audio.

Its flags are the fields of :class:`animstudio.voice.requests.DatasetRequest` (the dataset's options);
``--name SPEAKER=RECORDING`` fills its ``names``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from animstudio.cli import ui
from animstudio.options import with_options
from animstudio.voice.requests import DatasetRequest


def _names(pairs: list[str]) -> dict[str, str]:
    from animstudio.errors import InvalidInputError

    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        name = name.strip()
        if not sep or not name or not path.strip():
            raise InvalidInputError(f"--name {pair!r} must look like SPEAKER=RECORDING, e.g. --name Ada=ada_line.wav")
        if name in out:
            raise InvalidInputError(f"--name {name} is given twice; give each speaker one reference recording")
        out[name] = path.strip()
    return out


@with_options(DatasetRequest, into="request", args=("input",), short={"output": "-o", "language": "-l"})
def dataset(
    input: Path = typer.Argument(..., metavar="VIDEO_OR_AUDIO", help="A film, episode or recording with dialogue."),
    name: list[str] = typer.Option([], "--name", help="SPEAKER=RECORDING: name the speaker whose voice is most "
                                                       "like the recording's; repeat for more."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    request: Any = None,
) -> None:
    """Build a voice dataset: speech found, speakers told apart, clips checked and transcribed."""
    from animstudio.options import build
    from animstudio.voice.commands import build_voice_dataset
    from animstudio.voice.dataset.report import count

    if name:
        request = build(DatasetRequest, request.model_dump() | {"names": _names(name)}, "voice dataset")
    with ui.progress_bar() as on_progress:
        built = build_voice_dataset(request, on_progress=on_progress)
    if as_json:
        ui.print_json(json.loads(Path(built.report).read_text(encoding="utf-8")))
        return
    ui.say(f"wrote {built.folder}: {count(built.clips, 'clip')} ({built.seconds:.1f} s) from "
           f"{count(len(built.speakers), 'speaker')}, {count(built.rejected, 'stretch')} rejected "
           f"(see report.md)")
    ui.table(None, ["speaker", "clips", "seconds", "rejected", "named from"],
             [[s.name, s.clips, f"{s.seconds:.1f}", s.rejected, s.reference or ""] for s in built.speakers])
    for u in built.unmatched_names:
        ui.say(f"warning: {u.reference} ({u.name}) matched no speaker: at most {u.similarity:.2f} alike "
               f"(to {u.closest or 'none'})")
