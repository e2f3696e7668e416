"""Running a job: its steps in order, each skipped when it already finished (a resumed job picks up
where it stopped), progress recorded as events, the step's outputs recorded when it is done.

A pipeline is a list of ``(name, function)``; a function takes the :class:`Context` and returns the
outputs it wants kept (file names inside the job folder, small values). Files are written inside
the job folder through ``ctx.path(name)``; a step that dies leaves its half-made files to be
overwritten when it runs again.

    run_job(store, job.id, PIPELINES["parody"])
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animstudio.errors import InvalidInputError, StudioError
from animstudio.progress import Progress
from animstudio.studio.jobs import JobStore

StepFn = Callable[["Context"], dict[str, Any]]
Pipeline = list[tuple[str, StepFn]]


class Cancelled(StudioError):
    """The job was cancelled."""


@dataclass
class Context:
    store: JobStore
    job_id: str
    folder: Path
    params: dict[str, Any]
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)   # step name -> its outputs
    step: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    _last: float = 0.0

    def path(self, name: str) -> Path:
        return self.folder / name

    def output(self, step: str, key: str) -> Any:
        return self.outputs[step][key]

    def progress(self, fraction: float | None, message: str = "") -> None:
        """Record how far the current step is (at most a few events a second); a cancel, in this process
        or in the store, stops the step at the next event recorded."""
        now = time.monotonic()
        if not self.cancel.is_set() and fraction is not None and 0 < fraction < 1 and now - self._last < 0.25:
            return   # no store round trip for the many progress calls in between
        if self.cancel.is_set() or self.store.get_status(self.job_id) == "cancelled":
            self.cancel.set()
            raise Cancelled(f"job {self.job_id} was cancelled")
        self._last = now
        self.store.add_event(self.job_id, self.step, fraction, message)

    def on_progress(self, event: Progress) -> None:
        """A ``ProgressCallback`` for library calls made inside a step."""
        self.progress(event.fraction, event.message or event.task)

    def decide(self, what: str, **details: Any) -> None:
        """Record a decision the job made (it goes into the report)."""
        self.decisions.append({"step": self.step, "decision": what, **details})
        self.store.add_event(self.job_id, self.step, None, what)


def run_job(store: JobStore, job_id: str, pipeline: Pipeline, cancel: threading.Event | None = None) -> None:
    """Run the job's unfinished steps; the job ends done, failed (with the error) or cancelled."""
    job = store.get(job_id)
    if job.status == "done":
        return
    names = [s.name for s in job.steps]
    if names != [n for n, _ in pipeline]:
        raise InvalidInputError(f"job {job_id} has steps {names}, not those of a {job.kind} job")
    ctx = Context(store, job_id, job.folder, job.params, cancel=cancel or threading.Event())
    ctx.outputs = {s.name: s.outputs for s in job.steps if s.status == "done"}
    ctx.decisions = [d for outputs in ctx.outputs.values() for d in outputs.get("decisions", [])]
    store.set_status(job_id, "running", pid=os.getpid())
    for name, fn in pipeline:
        if name in ctx.outputs:
            continue
        ctx.step = name
        started = time.perf_counter()
        try:
            ctx.progress(0.0, "started")
            outputs = fn(ctx)
            outputs = {**(outputs or {}), "decisions": [d for d in ctx.decisions if d["step"] == name]}
            ctx.progress(1.0, "done")
        except Cancelled:
            store.set_status(job_id, "cancelled", "cancelled")
            return
        except StudioError as exc:
            store.add_event(job_id, name, None, f"failed: {exc}")
            store.set_status(job_id, "failed", f"{name}: {exc}")
            raise
        except BaseException as exc:
            store.set_status(job_id, "failed", f"{name}: {type(exc).__name__}: {exc}")
            raise
        store.step_done(job_id, name, outputs, time.perf_counter() - started)
        ctx.outputs[name] = outputs
    store.set_status(job_id, "done")
