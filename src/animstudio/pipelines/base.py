"""The pipeline interface: a creative job's typed parameters, its ordered steps and the files it delivers.

A pipeline is a registered backend (kind ``pipeline``, hook ``register_pipelines``). Its nested
``Options`` model is the job's parameters: the CLI flags, the API's schema and the agent's tool
arguments come from it. The one required method is ``steps()``; ``check()`` adds the checks a
model cannot make (the clip is a video, the model is installed), run before a job or a folder exists.

    class Shout(Pipeline):
        name = "shout"
        artifacts = ("shout.txt",)
        class Options(Pipeline.Options):
            text: str
        def steps(self):
            return [("write", lambda ctx: {"file": ctx.path("shout.txt").write_text(ctx.params.text.upper())})]

    Shout(text="hi").run(folder)          # without a job store; jobs.submit("shout", {...}) with one
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from animstudio.backend import Backend
from animstudio.jobs.events import EventKind
from animstudio.jobs.runner import Context, StepFn, run_steps
from animstudio.progress import ProgressCallback


class Pipeline(Backend):
    """Base of pipelines."""

    artifacts: ClassVar[tuple[str, ...]] = ()   # files (or folders) of the job folder delivered to ``output``

    @abstractmethod
    def steps(self) -> list[tuple[str, StepFn]]:
        """The steps in the order they run: ``(name, function of the Context returning its outputs)``."""

    def check(self) -> None:
        """Checks beyond the ``Options`` model, made before any work (raise InvalidInputError)."""

    def run(self, folder: str | Path, on_progress: ProgressCallback | None = None,
            cancel: threading.Event | None = None) -> dict[str, dict[str, Any]]:
        """Run every step in ``folder`` without a job store; returns each step's outputs (the files
        named there lie in ``folder``). Progress and decisions go to ``on_progress``."""
        from animstudio.progress import Progress

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)

        def record(step: str, fraction: float | None, message: str, kind: EventKind,
                   data: dict[str, Any] | None = None) -> None:
            if on_progress is not None:
                on_progress(Progress(step, fraction or 0.0, 1.0, "", message))

        self.check()
        ctx = Context(folder, self.options, kind=self.name, cancel=cancel or threading.Event(), record=record)
        return run_steps(self, ctx)
