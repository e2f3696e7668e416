"""``animstudio voice lipsync``: mouth cues (Rhubarb TSV/JSON, Moho .dat) for a recording, with a preview.

Its flags are the fields of :class:`animstudio.voice.requests.LipsyncRequest`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from animstudio.cli import ui
from animstudio.options import with_options
from animstudio.voice.requests import LipsyncRequest


@with_options(LipsyncRequest, into="request", args=("audio",),
              short={"text": "-t", "format": "-f", "output": "-o", "language": "-l"})
def lipsync(
    audio: Path = typer.Argument(..., metavar="AUDIO", help="The recording (any file with sound)."),
    request: Any = None,
) -> None:
    """Mouth shapes A-H, X for a recording: forced alignment with the text, else speech recognition."""
    from animstudio.voice.commands import lipsync_file

    with ui.progress_bar() as on_progress:
        result = lipsync_file(request, on_progress=on_progress)
    ui.say(f"wrote {result.output} ({len(result.cues)} cues, {result.speaking} speaking, {result.duration_s:.2f} s)"
           + (f" and {result.preview}" if result.preview is not None else ""))
