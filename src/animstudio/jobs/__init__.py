"""Durable jobs: a store (SQLite, migrated), a runner that adds durability around a pipeline's steps,
typed progress events and the one ``follow()`` every face uses to watch them.

    from animstudio.jobs import follow, run, submit
    job = submit("highlights", {"clip": "match.mp4"})
    run(job.id)
"""

from __future__ import annotations

from animstudio.jobs.events import ENDED, JobEvent, follow
from animstudio.jobs.runner import Context, run_job, run_steps
from animstudio.jobs.service import deliver, run, run_watched, submit
from animstudio.jobs.store import Job, JobStore

__all__ = ["ENDED", "Context", "Job", "JobEvent", "JobStore", "deliver", "follow", "run", "run_job", "run_steps",
           "run_watched", "submit"]
