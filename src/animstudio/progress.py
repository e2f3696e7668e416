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


class BatchProgress:
    """A batch's progress as one event stream: the items finished plus the share of each running one,
    as its worker reports it (never going back, and short of whole until the item comes back)."""

    def __init__(self, task: str, done: int, total: int, unit: str, on_progress: ProgressCallback) -> None:
        self.task, self.done, self.total, self.unit, self.on_progress = task, done, total, unit, on_progress
        self.running: dict[int, float] = {}
        self._say("")

    def _say(self, message: str) -> None:
        self.on_progress(Progress(self.task, self.done + sum(self.running.values()), self.total, self.unit, message))

    def part(self, index: int, share: float, message: str) -> None:
        """Item ``index`` is ``share`` (0-1) done."""
        self.running[index] = max(self.running.get(index, 0.0), min(0.99, share))
        self._say(message)

    def finished(self, index: int, message: str) -> None:
        self.done += 1
        self.running.pop(index, None)
        self._say(message)
