"""Submitting and running jobs: a registered pipeline's parameters checked, a durable job made, its
steps run, and its declared artifacts delivered to the folder the user asked for.

    job = submit("parody", {"clip": "a.mp4", "brief": "sports commentary", "output": "out/a"})
    run(job.id)                         # or again after a crash: finished steps are not redone
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from animstudio.files import output_folder
from animstudio.jobs.events import JobEvent, follow
from animstudio.jobs.runner import run_job
from animstudio.jobs.store import Job, JobStore


def _pipeline(kind: str, params: dict[str, Any]) -> Any:
    from animstudio.errors import UnknownBackendError
    from animstudio.pipelines import get_pipeline, pipeline_names

    try:
        return get_pipeline(kind, params)
    except UnknownBackendError:
        from animstudio.errors import InvalidInputError

        raise InvalidInputError(f"unknown job kind {kind!r}; kinds: {', '.join(pipeline_names())}") from None


def submit(kind: str, params: dict[str, Any], store: JobStore | None = None) -> Job:
    """A new job of ``kind``; its parameters are checked first (nothing is made for bad ones)."""
    pipeline = _pipeline(kind, params)
    pipeline.check()
    store = store or JobStore()
    return store.create(kind, pipeline.options.model_dump(mode="json"), [name for name, _ in pipeline.steps()])


def deliver(job: Job, artifacts: tuple[str, ...]) -> Path | None:
    """Copy the job's artifacts to its output folder (built beside it, then moved in)."""
    if not job.params.get("output"):
        return None
    out = Path(job.params["output"])
    with output_folder(out, job.kind) as tmp:
        for name in artifacts:
            src = job.folder / name
            if src.is_dir():
                shutil.copytree(src, tmp / name)
            elif src.exists():
                shutil.copy2(src, tmp / name)
    return out


def run(job_id: str, store: JobStore | None = None, cancel: threading.Event | None = None) -> Job:
    """Run (or resume) a job; a finished job's artifacts go to its output folder."""
    store = store or JobStore()
    job = store.get(job_id)
    pipeline = _pipeline(job.kind, job.params)
    run_job(store, job_id, pipeline, cancel)
    job = store.get(job_id)
    if job.status == "done":
        deliver(job, pipeline.artifacts)
    return job


def run_watched(job_id: str, on_event: Callable[[JobEvent], None], store: JobStore | None = None,
                after: int = 0) -> tuple[Job, BaseException | None]:
    """Run (or resume) a job in this process while each event recorded after ``after`` is handed to
    ``on_event`` as it comes (the same ``follow()`` the API streams); the job as it ended its turn and
    what the run raised, if anything."""
    store = store or JobStore()
    ended = threading.Event()
    failure: list[BaseException] = []

    def work() -> None:
        try:
            run(job_id, store)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            failure.append(exc)
        finally:
            ended.set()

    worker = threading.Thread(target=work, name=f"job-{job_id}", daemon=True)
    worker.start()
    seen = after
    for event in follow(store, job_id, after=seen, stop=ended):
        seen = event.seq
        on_event(event)
    worker.join()
    for event in store.events(job_id, after=seen):   # those recorded after the watch stopped
        on_event(event)
    return store.get(job_id), (failure[0] if failure else None)
