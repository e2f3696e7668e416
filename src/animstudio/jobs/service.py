"""Submitting and running jobs: a registered pipeline's parameters checked, a durable job made, its
steps run, and its declared artifacts delivered to the folder the user asked for.

    job = submit("parody", {"clip": "a.mp4", "brief": "sports commentary", "output": "out/a"})
    run(job.id)                         # or again after a crash: finished steps are not redone
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

from animstudio.files import output_folder
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
