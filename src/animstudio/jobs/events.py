"""Typed job events and the one way to watch them: ``follow()``.

Every face (the CLI's progress bar, the API's server-sent events, the web UI) reads a job's events
through ``follow``; it yields each event once, in order, and ends when the job has ended.

    for event in follow(store, job.id):
        print(event.kind, event.step, event.fraction, event.message)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from animstudio.jobs.store import JobStore

# an agent run's typed steps (the plan, each tool call and what came back, its score) are events too
EventKind = Literal["progress", "decision", "error", "status", "plan", "action", "observation", "score", "guard",
                    "replan"]
ENDED = ("done", "failed", "cancelled")


class JobEvent(BaseModel):
    """One thing that happened in a job, in the order it happened."""

    seq: int = Field(description="1, 2, 3... within the job")
    time: float = Field(description="seconds since the epoch")
    step: str = Field(description="the step it happened in ('' for the job itself)")
    fraction: float | None = Field(None, description="how far the step is, 0-1; None when unknown")
    message: str = ""
    kind: EventKind = Field("progress", description="progress, decision (goes into the report), error, status; "
                                                    "an agent run's plan, action, observation, score, guard, replan")
    data: dict[str, Any] | None = Field(None, description="the typed details of an agent run's event (tool, "
                                                          "arguments, result, score)")

    def as_dict(self) -> dict[str, object]:
        return self.model_dump()


def follow(store: JobStore, job_id: str, after: int = 0, poll_s: float = 0.25,
           stop: object | None = None) -> Iterator[JobEvent]:
    """Each event of the job after ``after``, as it is recorded, until the job has ended (its last events
    included). ``stop`` (anything with ``is_set()``) ends the watch early."""
    store.get(job_id)   # an unknown job is an error before anything is yielded
    seen = after
    while True:
        ended = store.get_status(job_id) in ENDED   # read before the events, so none recorded after are missed
        for event in store.events(job_id, after=seen):
            seen = event.seq
            yield event
        if ended or (stop is not None and stop.is_set()):   # type: ignore[attr-defined]
            return
        time.sleep(poll_s)
