"""End to end with the default embedded model (slow): a request in words becomes a 10 s noir reel of a
real clip and its EDL; the run is killed with SIGKILL once the reel is made, and resumed: the reel is
not rendered again and the EDL describes it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from animstudio.jobs import JobStore
from animstudio.media import probe
from conftest import run_cli

REQUEST = "make a 10-second highlight reel of big_buck_bunny_0_30.webm in the noir style and export it as an EDL"


def _reel_made(store: JobStore, job_id: str) -> bool:
    """The reel passed its gate and the run went on to the next step (so its checkpoint is written)."""
    events = [e.data for e in store.events(job_id) if e.data]
    passed = [i for i, e in enumerate(events) if e["kind"] == "score" and e.get("passed")]
    return bool(passed) and any(e["kind"] == "action" and e["tool"] != "edit.highlights"
                                for e in events[passed[0]:])


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_a_reel_and_its_edl_survive_a_kill(studio_home, shared_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    clip = shared_data / "video" / "big_buck_bunny_0_30.webm"
    proc = subprocess.Popen([sys.executable, "-m", "animstudio", "agent", "run", REQUEST, "-f", str(clip), "--yes"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
    store = JobStore()
    deadline, job_id = time.monotonic() + 900, None
    while time.monotonic() < deadline and proc.poll() is None:
        jobs = [j for j in store.list() if j.kind == "agent"]
        job_id = jobs[0].id if jobs else None
        if job_id and _reel_made(store, job_id):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, f"the run ended before it could be killed:\n{proc.stdout.read()}"
    reels = [p for p in tmp_path.rglob("*.mp4") if p.stat().st_size and not p.name.startswith(".")]
    assert len(reels) == 1, reels
    made = reels[0].stat().st_mtime_ns
    seen = len(store.events(job_id))

    resumed = run_cli("agent", "resume", job_id, "--json", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert store.get(job_id).status == "done"
    later = [e.data for e in store.events(job_id, after=seen) if e.data]
    assert not any(e["kind"] == "action" and e["tool"] == "edit.highlights" for e in later)   # not rendered again
    assert reels[0].stat().st_mtime_ns == made
    assert abs(probe(reels[0], count_frames=False).duration_s - 10.0) <= 0.5
    edls = [p for p in tmp_path.rglob("*.edl") if not p.name.startswith(".")]   # a kill may leave a temp file
    assert len(edls) == 1
    import opentimelineio as otio

    text = edls[0].read_text()
    events = [line for line in text.splitlines() if re.match(r"^\d{3}\s", line)]    # CMX 3600 event lines
    reel = otio.adapters.read_from_file(str(reels[0].with_suffix(".otio")))
    clips = list(reel.find_clips())
    joins = [item for item in reel.video_tracks()[0] if isinstance(item, otio.schema.Transition)]
    assert len(clips) >= 2 and len(events) == len(clips) + len(joins)   # a cut event per moment, one per dissolve
    assert "big_buck_bunny_0_30.webm" in text
