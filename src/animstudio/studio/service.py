"""Submitting and running creative jobs: the kinds there are, their pipelines, and delivering a
finished job's files to the folder the user asked for.

    job = submit("parody", {"clip": "a.mp4", "brief": "sports commentary", "output": "out/a"})
    run(job.id)                         # or resume(job.id) after a crash
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

from animstudio.errors import InvalidInputError
from animstudio.files import output_folder
from animstudio.studio.jobs import Job, JobStore
from animstudio.studio.params import check_params
from animstudio.studio.runner import Pipeline, run_job

DELIVERED = ("analysis.json", "highlights.mp4", "highlights.otio", "render.mp4", "parody.mp4", "parody.srt",
             "parody.otio", "plan.json", "report.html", "manifest.json", "voices")


def pipelines() -> dict[str, Pipeline]:
    from animstudio.studio.parody import PIPELINE, step_analyze
    from animstudio.studio.short_jobs import PIPELINES

    return {"parody": PIPELINE, "narrate": PIPELINE, "analyze": [("analyze", step_analyze)], **PIPELINES}


def submit(kind: str, params: dict[str, Any], store: JobStore | None = None) -> Job:
    """A new job of ``kind``; its parameters are checked first (nothing is made for bad ones)."""
    known = pipelines()
    if kind not in known:
        raise InvalidInputError(f"unknown job kind {kind!r}; kinds: {', '.join(known)}")
    params = check_params(kind, params)
    store = store or JobStore()
    return store.create(kind, params, [name for name, _ in known[kind]])


def deliver(job: Job) -> Path | None:
    """Copy the job's results to its output folder (built beside it, then moved in)."""
    if not job.params.get("output"):
        return None
    out = Path(job.params["output"])
    with output_folder(out, job.kind) as tmp:
        for name in DELIVERED:
            src = job.folder / name
            if src.is_dir():
                shutil.copytree(src, tmp / name)
            elif src.exists():
                shutil.copy2(src, tmp / name)
    return out


def run(job_id: str, store: JobStore | None = None, cancel: threading.Event | None = None) -> Job:
    store = store or JobStore()
    job = store.get(job_id)
    run_job(store, job_id, pipelines()[job.kind], cancel)
    job = store.get(job_id)
    if job.status == "done":
        deliver(job)
    return job
