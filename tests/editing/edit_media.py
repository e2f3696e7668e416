"""Timelines the editing tests share (a helper module: a conftest.py here would shadow the top one)."""

from __future__ import annotations

from pathlib import Path

from animstudio.editing.schema import Output
from animstudio.editing.timeline import Edit


def cut_timeline(clip: Path, folder: Path) -> Path:
    """``folder``/cut.otio: two cuts of the sample clip (30 and 40 frames at 24 fps, 320x180) joined by
    a 0.5 s fade, and one caption (0.2-1.0 s); 70 frames."""
    edit = Edit(Output(width=320, height=180, fps=24))
    edit.cut(clip, 80 / 24, 110 / 24)
    edit.cut(clip, 190 / 24, 230 / 24)
    edit.add_transition(1, "fade", 0.5)
    edit.add_caption("Hello there", 0.2, 1.0)
    return edit.save(folder / "cut.otio")
