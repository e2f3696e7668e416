"""Durable jobs: steps run once, a failed, cancelled or killed job resumes at its first unfinished
step, events come in order (the pipeline here is a scripted one; the parody pipeline has its own
tests). Each runs on both job databases: the SQLite file and a PostgreSQL server."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from animstudio.errors import InvalidInputError, ServiceUnavailableError
from animstudio.jobs import JobStore, run_job
from animstudio.pipelines import Pipeline


class Scripted(Pipeline):
    """Three steps that write a file each; one may fail or be cancelled from the store."""

    name = "scripted"

    def __init__(self, calls, fail_at=None, cancel_at=None, store=None, hang_at=None):
        super().__init__()
        self.calls, self.fail_at, self.cancel_at, self.store = calls, fail_at, cancel_at, store
        self.hang_at = hang_at

    def steps(self):
        def step(name):
            def fn(ctx):
                self.calls.append(name)
                ctx.progress(0.5, f"half of {name}")
                if name == self.fail_at:
                    raise InvalidInputError(f"{name} broke")
                if name == self.cancel_at:
                    self.store.set_status(ctx.job_id, "cancelled")
                    ctx.progress(0.9)
                if name == self.hang_at:
                    time.sleep(120)          # until the process is killed
                ctx.path(f"{name}.txt").write_text(name, encoding="utf-8")
                ctx.decide(f"{name} decided")
                return {"file": f"{name}.txt"}
            return fn
        return [(n, step(n)) for n in ("analyze", "plan", "render")]


def pipeline(calls, fail_at=None, cancel_at=None, store=None):
    return Scripted(calls, fail_at, cancel_at, store)


def test_a_job_runs_each_step_once_and_resumes_after_a_failure(tmp_path, job_database):
    store = JobStore(tmp_path / "jobs")
    job = store.create("parody", {"clip": "x.mp4"}, ["analyze", "plan", "render"])
    calls = []
    with pytest.raises(InvalidInputError, match="plan broke"):
        run_job(store, job.id, pipeline(calls, fail_at="plan"))
    failed = store.get(job.id)
    assert failed.status == "failed" and "plan broke" in failed.error
    assert [s.status for s in failed.steps] == ["done", "pending", "pending"]
    run_job(store, job.id, pipeline(calls))
    done = store.get(job.id)
    assert calls == ["analyze", "plan", "plan", "render"]   # analyze was not redone
    assert done.status == "done" and done.steps[2].outputs["file"] == "render.txt"
    assert done.steps[0].outputs["decisions"] == [{"step": "analyze", "decision": "analyze decided"}]
    events = store.events(job.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert ("plan", "failed: plan broke") in [(e.step, e.message) for e in events]
    run_job(store, job.id, pipeline(calls))
    assert calls == ["analyze", "plan", "plan", "render"]   # a finished job does nothing


def test_cancel_stops_at_the_next_progress_check(tmp_path, job_database):
    store = JobStore(tmp_path / "jobs")
    job = store.create("parody", {}, ["analyze", "plan", "render"])
    calls = []
    run_job(store, job.id, pipeline(calls, cancel_at="plan", store=store))
    assert store.get(job.id).status == "cancelled" and calls == ["analyze", "plan"]
    run_job(store, job.id, pipeline(calls))
    assert store.get(job.id).status == "done" and calls == ["analyze", "plan", "plan", "render"]


def test_unknown_jobs_and_mismatched_pipelines(tmp_path, job_database):
    store = JobStore(tmp_path / "jobs")
    with pytest.raises(InvalidInputError, match="no job 'nope'"):
        store.get("nope")
    job = store.create("parody", {}, ["analyze"])
    with pytest.raises(InvalidInputError, match="has steps"):
        run_job(store, job.id, pipeline([]))


def test_failed_jobs_are_listed_and_can_be_removed(studio_home, job_database):
    import json

    from conftest import assert_bad_input, run_cli

    store = JobStore()
    failed = store.create("parody", {"clip": "x.mp4"}, ["analyze", "plan", "render"])
    with pytest.raises(InvalidInputError):
        run_job(store, failed.id, pipeline([], fail_at="analyze"))
    running = store.create("parody", {"clip": "y.mp4"}, ["analyze"])
    store.set_status(running.id, "running")
    listed = run_cli("jobs", "list")
    assert failed.id in listed.stdout and "analyze broke" in listed.stdout and "jobs remove --failed" in listed.stdout
    assert_bad_input(run_cli("jobs", "remove", running.id), "is running", "jobs cancel")
    assert_bad_input(run_cli("jobs", "remove", failed.id, "nope"), "no job 'nope'")
    assert store.folder(failed.id).is_dir()   # a bad name removed nothing
    proc = run_cli("jobs", "remove", "--failed")
    assert proc.returncode == 0 and "removed 1 job" in proc.stdout, proc.stderr
    assert not store.folder(failed.id).exists() and store.folder(running.id).is_dir()
    assert [j["id"] for j in json.loads(run_cli("jobs", "list", "--json").stdout)] == [running.id]


class Ledger:
    """Calls written to a file, so a killed process's count."""

    def __init__(self, path):
        self.path = Path(path)

    def append(self, name):
        with self.path.open("a", encoding="utf-8") as f:
            f.write(name + "\n")

    def lines(self):
        return self.path.read_text(encoding="utf-8").split()


def run_until_killed(root, job_id, ledger):
    run_job(JobStore(root), job_id, Scripted(Ledger(ledger), hang_at="plan"))


def test_a_job_killed_mid_step_resumes_without_redoing_steps(tmp_path, job_database):
    root, ledger = tmp_path / "jobs", Ledger(tmp_path / "calls.txt")
    store = JobStore(root)
    job = store.create("parody", {"clip": "x.mp4"}, ["analyze", "plan", "render"])
    worker = multiprocessing.get_context("spawn").Process(target=run_until_killed, args=(str(root), job.id,
                                                                                         str(ledger.path)))
    worker.start()
    deadline = time.monotonic() + 60
    while not ledger.path.exists() or ledger.lines() != ["analyze", "plan"]:    # in the plan step
        assert worker.is_alive() and time.monotonic() < deadline, "the worker never reached the plan step"
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.join(10)
    assert store.get(job.id).status == "running"          # as a crash leaves it
    run_job(store, job.id, Scripted(ledger))
    done = store.get(job.id)
    assert done.status == "done" and ledger.lines() == ["analyze", "plan", "plan", "render"]
    events = store.events(job.id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


def add_events(root, job_id, worker, count, go):
    store = JobStore(root)
    go.wait()
    for i in range(count):
        store.add_event(job_id, worker, (i + 1) / count, f"{worker} {i}")


def test_events_from_many_workers_reach_the_job_in_one_order(tmp_path, job_database):
    root = tmp_path / "jobs"
    store = JobStore(root)
    job = store.create("image-batch", {}, ["images"])
    spawn = multiprocessing.get_context("spawn")
    go = spawn.Event()
    workers = [spawn.Process(target=add_events, args=(str(root), job.id, f"w{n}", 40, go)) for n in range(4)]
    for w in workers:
        w.start()
    go.set()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    events = store.events(job.id)
    assert [e.seq for e in events] == list(range(1, 161))      # none lost, none twice
    for n in range(4):
        assert [e.message for e in events if e.step == f"w{n}"] == [f"w{n} {i}" for i in range(40)]


def test_a_store_on_postgresql_connects_again_when_the_server_drops_it(postgres, tmp_path):
    import psycopg

    url = postgres.new_database()
    store = JobStore(tmp_path / "jobs", database_url=url)
    job = store.create("render", {}, ["render"])
    for write in (lambda: store.add_event(job.id, "render", 0.5, "half"),     # in a transaction
                  lambda: store.set_status(job.id, "running")):               # on its own
        with psycopg.connect(url, autocommit=True) as admin:    # as a server restart does to every client
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        write()
    assert [e.message for e in store.events(job.id)] == ["half"] and store.get_status(job.id) == "running"
    away = r"^the job database postgresql://studio@127.0.0.1:1/nope cannot be reached \(.*refused\); start it"
    with pytest.raises(ServiceUnavailableError, match=away):
        JobStore(tmp_path / "other", database_url=url.rsplit(":", 1)[0] + ":1/nope")
