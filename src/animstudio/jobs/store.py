"""Durable jobs: a SQLite store in the studio home, or a PostgreSQL server that many hosts share. A
job is a kind, its parameters and a list of named steps; each finished step's outputs are recorded,
so a job killed at any point resumes at the first step that did not finish. Progress events are kept
in order for the CLI, the API and the UI.

    store = JobStore()
    job = store.create("parody", {"clip": "/clips/a.mp4"}, steps=["analyze", "plan", "render"])
    store.step_done(job.id, "analyze", {"analysis": "analysis.json"})
    store.events(job.id, after=0)          # [JobEvent(seq=1, step='analyze', fraction=1.0, ...), ...]

The schema is built by ordered, named migrations (``MIGRATIONS``, the same for both databases); a
database made by an older version is brought up to date when it is opened.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from animstudio.errors import InvalidInputError, NotFoundError
from animstudio.jobs.database import open_database
from animstudio.jobs.events import EventKind, JobEvent

Status = Literal["queued", "running", "waiting", "done", "failed", "cancelled"]   # waiting: for the user's approval
# (name, SQL): applied in order, each once; never edit one that has shipped, add the next
MIGRATIONS: list[tuple[str, str]] = [
    ("001_jobs_steps_events", """
CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT NOT NULL, status TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL, error TEXT NOT NULL DEFAULT '', pid INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS steps (job TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,
    status TEXT NOT NULL, outputs TEXT NOT NULL DEFAULT '{}', seconds REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (job, name));
CREATE TABLE IF NOT EXISTS events (job TEXT NOT NULL, seq INTEGER NOT NULL, time REAL NOT NULL, step TEXT NOT NULL,
    fraction REAL, message TEXT NOT NULL, PRIMARY KEY (job, seq));
"""),
    ("002_event_kinds", "ALTER TABLE events ADD COLUMN kind TEXT NOT NULL DEFAULT 'progress';"),
    ("003_event_data", "ALTER TABLE events ADD COLUMN data TEXT;"),
]


@dataclass
class Step:
    name: str
    status: str
    outputs: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class Job:
    id: str
    kind: str
    params: dict[str, Any]
    status: Status
    created: float
    updated: float
    error: str
    pid: int
    steps: list[Step]
    folder: Path

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "params": self.params, "status": self.status,
                "created": self.created, "updated": self.updated, "error": self.error, "folder": str(self.folder),
                "steps": [{"name": s.name, "status": s.status, "seconds": round(s.seconds, 3), "outputs": s.outputs}
                          for s in self.steps]}


class JobStore:
    """The jobs of a studio: rows in its database (:mod:`animstudio.jobs.database`), files in ``root``.
    ``database_url`` (default: the ``jobs.database_url`` setting) puts the rows on a PostgreSQL server,
    shared by the workers of several hosts; the folders must then be on storage they share too."""

    def __init__(self, root: str | os.PathLike[str] | None = None, database_url: str | None = None) -> None:
        from animstudio.config import load_settings

        settings = load_settings()
        self.root = Path(root) if root else settings.home / "jobs"
        self.root.mkdir(parents=True, exist_ok=True)
        self.db = open_database(self.root, database_url if database_url is not None else settings.jobs.database_url)
        self.db.migrate(MIGRATIONS)

    def folder(self, job_id: str) -> Path:
        return self.root / job_id

    def create(self, kind: str, params: dict[str, Any], steps: list[str]) -> Job:
        job_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        now = time.time()
        self.folder(job_id).mkdir(parents=True)
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO jobs VALUES (?, ?, ?, 'queued', ?, ?, '', 0)",
                       (job_id, kind, json.dumps(params), now, now))
            for i, name in enumerate(steps):
                tx.execute("INSERT INTO steps (job, position, name, status) VALUES (?, ?, ?, 'pending')",
                           (job_id, i, name))
        return self.get(job_id)

    def get(self, job_id: str) -> Job:
        rows = self.db.query("SELECT id, kind, params, status, created, updated, error, pid FROM jobs WHERE id = ?",
                             (job_id,))
        if not rows:
            recent = [r[0] for r in self.db.query("SELECT id FROM jobs ORDER BY created DESC LIMIT 5")]
            raise NotFoundError(f"no job {job_id!r}; recent jobs: {', '.join(recent) or 'none'} "
                                "(animstudio jobs list)")
        row = rows[0]
        steps = [Step(n, s, json.loads(o), sec) for n, s, o, sec in self.db.query(
            "SELECT name, status, outputs, seconds FROM steps WHERE job = ? ORDER BY position", (job_id,))]
        return Job(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5], row[6], row[7], steps,
                   self.folder(row[0]))

    def list(self, limit: int = 50) -> list[Job]:
        ids = [r[0] for r in self.db.query("SELECT id FROM jobs ORDER BY created DESC LIMIT ?", (limit,))]
        return [self.get(i) for i in ids]

    def set_status(self, job_id: str, status: Status, error: str = "", pid: int | None = None) -> None:
        self.db.execute("UPDATE jobs SET status = ?, error = ?, updated = ?, pid = COALESCE(?, pid) WHERE id = ?",
                        (status, error, time.time(), pid, job_id))

    def get_status(self, job_id: str) -> str:
        rows = self.db.query("SELECT status FROM jobs WHERE id = ?", (job_id,))
        return rows[0][0] if rows else ""

    def step_done(self, job_id: str, name: str, outputs: dict[str, Any], seconds: float = 0.0) -> None:
        self.db.execute("UPDATE steps SET status = 'done', outputs = ?, seconds = ? WHERE job = ? AND name = ?",
                        (json.dumps(outputs), seconds, job_id, name))

    def add_event(self, job_id: str, step: str, fraction: float | None, message: str = "",
                  kind: EventKind = "progress", data: dict[str, Any] | None = None) -> None:
        with self.db.transaction(lock=job_id) as tx:     # events of one job from many workers: one order
            seq = tx.query("SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE job = ?", (job_id,))[0][0]
            tx.execute("INSERT INTO events (job, seq, time, step, fraction, message, kind, data) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (job_id, seq, time.time(), step, fraction, message, kind,
                                                           None if data is None else json.dumps(data)))

    def events(self, job_id: str, after: int = 0) -> list[JobEvent]:
        return [JobEvent(seq=r[0], time=r[1], step=r[2], fraction=r[3], message=r[4], kind=r[5],
                         data=None if r[6] is None else json.loads(r[6]))
                for r in self.db.query("SELECT seq, time, step, fraction, message, kind, data FROM events "
                                       "WHERE job = ? AND seq > ? ORDER BY seq", (job_id, after))]

    def remove(self, job_id: str) -> None:
        """Forget a job that is not running: its record, events and folder (its delivered output stays)."""
        status = self.get(job_id).status
        if status == "running":
            raise InvalidInputError(f"job {job_id} is {status}; cancel it first (animstudio jobs cancel {job_id})")
        with self.db.transaction(lock=job_id) as tx:
            for table, key in (("events", "job"), ("steps", "job"), ("jobs", "id")):
                tx.execute(f"DELETE FROM {table} WHERE {key} = ?", (job_id,))
        shutil.rmtree(self.folder(job_id), ignore_errors=True)

    def counts(self) -> dict[tuple[str, str], int]:
        """How many jobs there are of each (kind, status)."""
        return {(k, s): int(n) for k, s, n in self.db.query("SELECT kind, status, COUNT(*) FROM jobs "
                                                            "GROUP BY kind, status")}

    def running(self) -> int:
        return int(self.db.query("SELECT COUNT(*) FROM jobs WHERE status = 'running'")[0][0])
