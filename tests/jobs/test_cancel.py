"""A cancel while a real render job runs, recorded in the store (another process: `jobs cancel`) or
set in this process (Ctrl-C, the API): the job ends "cancelled" (never "failed"), says so in a status
event, and leaves no video and no ffmpeg behind."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from animstudio.jobs import JobStore, run, submit


def child_processes() -> list[str]:
    """The ids of this process's living children (read from Linux's /proc; elsewhere none are seen)."""
    return [pid for f in Path("/proc/self/task").glob("*/children") for pid in f.read_text().split()]


@pytest.mark.parametrize("where", ["store", "process"])
def test_a_cancel_while_rendering_ends_cancelled(sample_clip, tmp_path, where, job_database):
    from animstudio.editing.timeline import Edit

    clip, truth = sample_clip
    edit = Edit()          # 1280x720: a minute of the sample clip takes the draft preset many seconds
    for _ in range(5):
        edit.cut(clip)
    timeline = edit.save(tmp_path / "long.otio")
    assert edit.duration_s == 5 * truth["duration_s"]
    store = JobStore(tmp_path / "jobs")
    servers = set(child_processes())     # a database server the tests started
    job = submit("render", {"clip": str(timeline), "preset": "draft"}, store)
    raised: list[BaseException] = []
    cancel = threading.Event()

    def work() -> None:
        try:
            run(job.id, store, cancel)
        except BaseException as exc:   # noqa: BLE001 - the test reports it
            raised.append(exc)

    thread = threading.Thread(target=work, name="render-job")
    thread.start()
    deadline = time.monotonic() + 120
    # the renderer's own reports (not the runner's "started"): the render is under way
    while not [e for e in store.events(job.id) if e.step == "render" and e.message not in ("started", "done")]:
        assert thread.is_alive(), f"the job ended before the render reported progress: {store.get(job.id).status}"
        assert time.monotonic() < deadline, "the render reported no progress in 120 s"
        time.sleep(0.05)
    if where == "store":
        store.set_status(job.id, "cancelled")
    else:
        cancel.set()
    thread.join(120)
    assert not thread.is_alive() and raised == []
    ended = store.get(job.id)
    assert (ended.status, ended.error, [s.status for s in ended.steps]) == ("cancelled", "cancelled", ["pending"])
    events = store.events(job.id)
    assert (events[-1].kind, events[-1].step, events[-1].message) == ("status", "render", "cancelled")
    assert [e for e in events if e.kind == "error"] == []
    assert sorted(p.name for p in job.folder.iterdir()) == []   # no video, no half-made parts
    assert set(child_processes()) <= servers   # every ffmpeg was stopped
