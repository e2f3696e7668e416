"""Running a pipeline's steps: with a job store (durable: each finished step is recorded, a resumed
job picks up where it stopped) or without one (a folder and a callback, as the agent and scripts do).

A step is a function of the :class:`Context` that returns the outputs it wants kept (file names
inside the folder, small values). Files are written inside the folder through ``ctx.path(name)``;
a step that dies leaves its half-made files to be overwritten when it runs again. A cancel, from
this process or recorded in the store, raises the one :class:`~animstudio.errors.CancelledError`
at the next progress check, and the job ends "cancelled" whichever part of the work noticed it.

    run_job(store, job.id, pipeline)                     # durable
    run_steps(pipeline, Context(folder, params))         # no store
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from animstudio.errors import CancelledError, DeniedError, InvalidInputError, StudioError, WaitingError
from animstudio.jobs.events import EventKind
from animstudio.jobs.store import JobStore
from animstudio.progress import Progress

if TYPE_CHECKING:
    from animstudio.pipelines.base import Pipeline

StepFn = Callable[["Context"], dict[str, Any]]
Record = Callable[..., None]   # (step, fraction, message, kind, data=None)


def _nowhere(step: str, fraction: float | None, message: str, kind: EventKind,
             data: dict[str, Any] | None = None) -> None:
    """Events of a run without a store go nowhere unless the caller asks for them."""


@dataclass
class Context:
    """What a step sees: its folder, the typed parameters, earlier steps' outputs, and ways to report."""

    folder: Path
    params: BaseModel
    kind: str = ""                                                    # the pipeline's name
    job_id: str = ""                                                  # "" outside a job store
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)   # step name -> its outputs
    seconds: dict[str, float] = field(default_factory=dict)            # step name -> how long it took
    step: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    record: Record = _nowhere
    cancelled: Callable[[], bool] = lambda: False                     # asked elsewhere (the store)
    _last: float = 0.0

    def path(self, name: str) -> Path:
        return self.folder / name

    def output(self, step: str, key: str) -> Any:
        return self.outputs[step][key]

    def progress(self, fraction: float | None, message: str = "") -> None:
        """Record how far the current step is (at most a few events a second); a cancel stops the step
        here with :class:`CancelledError`."""
        now = time.monotonic()
        if not self.cancel.is_set() and fraction is not None and 0 < fraction < 1 and now - self._last < 0.25:
            return   # no round trip to the store for the many progress calls in between
        if self.cancel.is_set() or self.cancelled():
            self.cancel.set()
            raise CancelledError(f"{self.kind or 'the job'} {self.job_id} was cancelled".replace("  ", " "))
        self._last = now
        self.record(self.step, fraction, message, "progress")

    def on_progress(self, event: Progress) -> None:
        """A ``ProgressCallback`` for library calls made inside a step."""
        self.progress(event.fraction, event.message or event.task)

    def emit(self, kind: EventKind, message: str, data: dict[str, Any] | None = None,
             fraction: float | None = None) -> None:
        """Record a typed event of the current step (an agent run's plan, actions and scores); a cancel
        stops the step here as :meth:`progress` does."""
        if self.cancel.is_set() or self.cancelled():
            self.cancel.set()
            raise CancelledError(f"{self.kind or 'the job'} {self.job_id} was cancelled".replace("  ", " "))
        self.record(self.step, fraction, message, kind, data)

    def decide(self, what: str, **details: Any) -> None:
        """Record a decision the job made (it goes into the report)."""
        self.decisions.append({"step": self.step, "decision": what, **details})
        self.record(self.step, None, what, "decision")


def run_steps(pipeline: Pipeline, ctx: Context,
              on_step_done: Callable[[str, dict[str, Any], float], None] | None = None) -> dict[str, dict[str, Any]]:
    """Run the steps of ``pipeline`` that ``ctx.outputs`` does not hold yet, in order; returns every
    step's outputs. Raises :class:`CancelledError` on a cancel and the step's error on a failure."""
    for name, fn in pipeline.steps():
        if name in ctx.outputs:
            continue
        ctx.step = name
        started = time.perf_counter()
        ctx.progress(0.0, "started")
        outputs = fn(ctx)
        outputs = {**(outputs or {}), "decisions": [d for d in ctx.decisions if d["step"] == name]}
        ctx.progress(1.0, "done")
        ctx.seconds[name] = time.perf_counter() - started
        if on_step_done is not None:
            on_step_done(name, outputs, ctx.seconds[name])
        ctx.outputs[name] = outputs
    return ctx.outputs


def run_job(store: JobStore, job_id: str, pipeline: Pipeline, cancel: threading.Event | None = None) -> None:
    """Run the job's unfinished steps; the job ends done, failed (with the error) or cancelled."""
    job = store.get(job_id)
    if job.status == "done":
        return
    names = [s.name for s in job.steps]
    if names != [n for n, _ in pipeline.steps()]:
        raise InvalidInputError(f"job {job_id} has steps {names}, not those of a {job.kind} job")
    ctx = Context(job.folder, pipeline.options, kind=job.kind, job_id=job_id, cancel=cancel or threading.Event(),
                  record=lambda step, fraction, message, kind, data=None: store.add_event(job_id, step, fraction,
                                                                                         message, kind, data),
                  cancelled=lambda: store.get_status(job_id) == "cancelled")
    ctx.outputs = {s.name: s.outputs for s in job.steps if s.status == "done"}
    ctx.seconds = {s.name: s.seconds for s in job.steps if s.status == "done"}
    ctx.decisions = [d for outputs in ctx.outputs.values() for d in outputs.get("decisions", [])]
    store.set_status(job_id, "running", pid=os.getpid())
    try:
        run_steps(pipeline, ctx, on_step_done=lambda name, outputs, seconds: store.step_done(job_id, name, outputs,
                                                                                            seconds))
    except WaitingError as exc:   # the step stopped for the user's approval: resumed later, not failed
        store.add_event(job_id, ctx.step, None, f"waiting: {exc}", "status")
        store.set_status(job_id, "waiting", str(exc))
        return
    except CancelledError as exc:   # whichever part noticed first (a step, the renderer, ffmpeg): one outcome
        why = str(exc) if isinstance(exc, DeniedError) else "cancelled"     # a denial says which step
        store.add_event(job_id, ctx.step, None, "cancelled" if why == "cancelled" else f"cancelled: {why}", "status")
        store.set_status(job_id, "cancelled", why)
        return
    except StudioError as exc:
        store.add_event(job_id, ctx.step, None, f"failed: {exc}", "error")
        store.set_status(job_id, "failed", f"{ctx.step}: {exc}")
        raise
    except BaseException as exc:
        store.set_status(job_id, "failed", f"{ctx.step}: {type(exc).__name__}: {exc}")
        raise
    store.set_status(job_id, "done")
