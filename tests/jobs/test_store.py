"""The job store's database: several processes opening a fresh store at once never let a reader see a
file without its tables, and a database of the first schema is migrated when it is opened."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from animstudio.jobs import JobStore
from animstudio.jobs.store import MIGRATIONS

OPENERS = 4
ROUNDS = 3


def open_store(root: str, go, out) -> None:
    """In a process of its own: open the store when told, record a job and an event in it."""
    go.wait()
    try:
        store = JobStore(root)
        job = store.create("render", {"clip": "a.otio"}, ["render"])
        store.add_event(job.id, "render", 0.5, "half")
        out.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the test
        out.put(f"opener: {type(exc).__name__}: {exc}")


def read_events(root: str, go, out) -> None:
    """In a process of its own: read the events table the moment the database file appears, and for a
    second after (while the others still open and migrate it)."""
    path = Path(root) / "jobs.sqlite"
    go.wait()
    deadline = time.monotonic() + 30
    while not path.exists():
        if time.monotonic() > deadline:
            out.put("reader: the database never appeared")
            return
    try:
        with closing(sqlite3.connect(path, timeout=30)) as db:
            until = time.monotonic() + 1
            while time.monotonic() < until:
                db.execute("SELECT COUNT(*) FROM events").fetchone()
        out.put("ok")
    except sqlite3.Error as exc:
        out.put(f"reader: {type(exc).__name__}: {exc}")


def test_a_fresh_store_opened_by_several_processes_at_once(tmp_path):
    spawn = multiprocessing.get_context("spawn")
    for n in range(ROUNDS):
        root = tmp_path / f"jobs-{n}"
        go, out = spawn.Event(), spawn.Queue()
        procs = [spawn.Process(target=read_events, args=(str(root), go, out))]
        procs += [spawn.Process(target=open_store, args=(str(root), go, out)) for _ in range(OPENERS)]
        for p in procs:
            p.start()
        time.sleep(1.5)   # every process has started and waits
        go.set()
        results = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(30)
        assert sorted(results) == ["ok"] * len(procs), results
        store = JobStore(root)
        jobs = {job.id for job in store.list()}
        assert len(jobs) == OPENERS
        applied = [r[0] for r in store.db.query("SELECT name FROM migrations ORDER BY name")]
        assert applied == [name for name, _ in MIGRATIONS]   # each applied once
        left = {p.name for p in root.iterdir()} - jobs - {"jobs.sqlite", "jobs.sqlite-wal", "jobs.sqlite-shm"}
        assert left == set()   # no half-built database beside it


def test_a_database_of_the_first_schema_is_migrated_when_opened(tmp_path):
    root = tmp_path / "jobs"
    (root / "old-job").mkdir(parents=True)
    with closing(sqlite3.connect(root / "jobs.sqlite")) as db, db:   # as the first version made it
        db.executescript("""
CREATE TABLE jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT NOT NULL, status TEXT NOT NULL,
    created REAL NOT NULL, updated REAL NOT NULL, error TEXT NOT NULL DEFAULT '', pid INTEGER NOT NULL DEFAULT 0);
CREATE TABLE steps (job TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,
    status TEXT NOT NULL, outputs TEXT NOT NULL DEFAULT '{}', seconds REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (job, name));
CREATE TABLE events (job TEXT NOT NULL, seq INTEGER NOT NULL, time REAL NOT NULL, step TEXT NOT NULL,
    fraction REAL, message TEXT NOT NULL, PRIMARY KEY (job, seq));
INSERT INTO jobs VALUES ('old-job', 'render', '{"clip": "a.otio"}', 'done', 1.0, 2.0, '', 0);
INSERT INTO steps VALUES ('old-job', 0, 'render', 'done', '{"video": "render.mp4"}', 1.5);
INSERT INTO events VALUES ('old-job', 1, 1.0, 'render', 0.0, 'started');
INSERT INTO events VALUES ('old-job', 2, 2.0, 'render', 1.0, 'done');
""")
    store = JobStore(root)
    with closing(sqlite3.connect(root / "jobs.sqlite")) as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(events)")]
        applied = [r[0] for r in db.execute("SELECT name FROM migrations ORDER BY name")]
    assert columns == ["job", "seq", "time", "step", "fraction", "message", "kind", "data"]
    assert applied == [name for name, _ in MIGRATIONS]
    events = store.events("old-job")
    assert [(e.seq, e.step, e.fraction, e.message, e.kind) for e in events] == [
        (1, "render", 0.0, "started", "progress"), (2, "render", 1.0, "done", "progress")]
    job = store.get("old-job")
    assert (job.status, job.steps[0].outputs, job.steps[0].seconds) == ("done", {"video": "render.mp4"}, 1.5)
    store.add_event("old-job", "", None, "kept", "status")
    again = JobStore(root)   # opened again: nothing is applied twice
    assert [(e.seq, e.kind) for e in again.events("old-job")] == [(1, "progress"), (2, "progress"), (3, "status")]
