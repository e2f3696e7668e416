"""Typed progress events: long work reports them, the CLI draws bars and the API streams them.

    def on_progress(event: Progress) -> None:
        print(event.task, event.fraction)
    install("whisper-base", on_progress=on_progress)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    task: str                 # what is being done, e.g. "assemble model.bin"
    done: float               # units done so far (bytes, seconds, frames)
    total: float | None       # units in all; None when unknown
    unit: str = ""            # "B", "s", "frames"
    message: str = ""

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return max(0.0, min(1.0, self.done / self.total))


ProgressCallback = Callable[[Progress], None]


def ignore(_: Progress) -> None:
    """The default callback: report nowhere."""
