"""The studio API as a real server process: a job's events stream to its end, artifacts cannot
escape the job folder, oversized uploads are refused, keys are checked."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import httpx
import pytest

from animstudio.jobs import JobStore
from conftest import free_port, running_process, sse_events

pytest.importorskip("fastapi")
KEY = {"X-API-Key": "sesame"}


@pytest.fixture
def server(studio_home, sample_clip, tmp_path):
    port = free_port()
    media = ["--media", str(sample_clip[0].parent), "--media", str(tmp_path)]
    with running_process([sys.executable, "-m", "animstudio", "studio", "serve", "--port", str(port),
                          "--api-key", "sesame", "--max-upload-mb", "1", *media], port, env=dict(os.environ),
                         what="studio", wait_s=60, health="/openapi.json", suffix="") as url:
        yield url


def test_a_job_streams_its_events_to_the_end(server, sample_clip):
    clip, truth = sample_clip
    with httpx.Client(base_url=server, headers=KEY, timeout=120) as http:
        assert http.post("/jobs", json={"kind": "analyze", "params": {"clip": str(clip)}},
                         headers={"X-API-Key": "wrong"}).status_code == 401
        big = http.post("/uploads", files={"file": ("big.mp4", b"\0" * (2 << 20), "video/mp4")})
        assert big.status_code == 413 and "limit of 1 MB" in big.json()["detail"]   # this server takes 1 MB
        job = http.post("/jobs", json={"kind": "analyze", "params": {"clip": str(clip)}})
        assert job.status_code == 201, job.text
        job_id = job.json()["id"]
        events = sse_events(http, f"/jobs/{job_id}/events")
        progress = [data for kind, data in events if kind == "progress"]
        assert events[-1][0] == "end" and progress[0]["message"] == "started" and progress[-1]["fraction"] == 1.0
        assert http.get(f"/jobs/{job_id}").json()["status"] == "done"
        analysis = http.get(f"/jobs/{job_id}/artifacts/analysis.json")
        assert analysis.status_code == 200
        # the sample clip's six shots, each starting where the ground truth says
        assert [s["start_frame"] for s in analysis.json()["shots"]] == [s["start"] for s in truth["shots"]]
        assert len(truth["shots"]) == 6 and analysis.json()["cuts"] == truth["cuts"]
        for name in ("../jobs.sqlite", "..%2Fjobs.sqlite", "%2Fetc%2Fpasswd"):
            assert http.get(f"/jobs/{job_id}/artifacts/{name}").status_code in (400, 404)
        assert http.get("/jobs/nope").status_code == 404
        # the figures Prometheus scrapes, behind the key; the health check without it
        assert httpx.get(f"{server}/metrics").status_code == 401
        assert httpx.get(f"{server}/health").json()["status"] == "ok"
        scraped = http.get("/metrics", headers={"Authorization": "Bearer sesame"})
        assert scraped.status_code == 200
        assert 'studio_jobs{kind="analyze",status="done"} 1.0' in scraped.text.splitlines()
        assert "model_broker_budget_bytes" in scraped.text


def test_small_uploads_are_kept_and_bad_clips_refused(server, studio_home):
    with httpx.Client(base_url=server, headers=KEY, timeout=60) as http:
        ok = http.post("/uploads", files={"file": ("note.mp4", b"x" * 1000, "video/mp4")})
        assert ok.status_code == 200 and ok.json()["bytes"] == 1000
        odd = http.post("/uploads", files={"file": ("setup.exe", b"MZ" * 500, "application/octet-stream")})
        assert odd.status_code == 415 and "setup.exe is not a kind of file the studio works on" in odd.json()["detail"]
        assert not list((studio_home / "uploads").glob("*setup*"))
        bad = http.post("/jobs", json={"kind": "analyze", "params": {"clip": "upload:../../etc/passwd"}})
        assert bad.status_code == 422 and "no upload" in bad.json()["detail"]
    assert not list((studio_home / "uploads").glob("*.part"))
    assert JobStore(studio_home / "jobs").list() == []


def test_highlights_and_render_jobs(server, sample_clip, tmp_path):
    clip, _ = sample_clip
    with httpx.Client(base_url=server, headers=KEY, timeout=120) as http:
        job = http.post("/jobs", json={"kind": "highlights", "params": {"clip": str(clip), "duration_s": 6,
                                                                          "preset": "draft"}}).json()
        deadline = time.monotonic() + 180
        while http.get(f"/jobs/{job['id']}").json()["status"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.5)
        done = http.get(f"/jobs/{job['id']}").json()
        assert done["status"] == "done", done["error"]
        reel = http.get(f"/jobs/{job['id']}/artifacts/highlights.mp4")
        timeline = http.get(f"/jobs/{job['id']}/artifacts/highlights.otio")
        assert reel.status_code == 200 and timeline.status_code == 200
        (tmp_path / "reel.otio").write_bytes(timeline.content)
        again = http.post("/jobs", json={"kind": "render", "params": {"clip": str(tmp_path / "reel.otio"),
                                                                        "preset": "draft"}}).json()
        while http.get(f"/jobs/{again['id']}").json()["status"] not in ("done", "failed"):
            time.sleep(0.5)
        assert http.get(f"/jobs/{again['id']}").json()["steps"][0]["outputs"]["video"] == "render.mp4"
    from animstudio.media import probe

    (tmp_path / "reel.mp4").write_bytes(reel.content)
    assert 4 <= probe(tmp_path / "reel.mp4").duration_s <= 8


def test_bad_job_parameters_are_refused_before_a_job_exists(server, sample_clip, studio_home, tmp_path):
    clip, _ = sample_clip
    (tmp_path / "notes.mp4").write_text("not a video\n" * 20)
    bad = {"max_minutes": float("nan"), "seed": -1, "preset": "ultra", "bogus": 1, "model": "no-such-model",
           "duration_s": float("inf")}
    with httpx.Client(base_url=server, headers=KEY, timeout=60) as http:
        for key, value in bad.items():
            body = json.dumps({"kind": "parody", "params": {"clip": str(clip), key: value}})  # NaN as JSON allows
            reply = http.post("/jobs", content=body, headers={"content-type": "application/json"})
            assert reply.status_code == 422, (key, reply.text)
            detail = reply.json()["detail"]
            assert isinstance(detail, str) and "\n" not in detail and (key in detail or "no-such-model" in detail)
        text = http.post("/jobs", json={"kind": "analyze", "params": {"clip": str(tmp_path / "notes.mp4")}})
        assert text.status_code == 422 and "not a media file" in text.json()["detail"]
    assert JobStore(studio_home / "jobs").list() == []


def test_the_server_reads_only_uploads_and_the_folders_it_serves(server, sample_clip, tmp_path_factory):
    """A path in a request is untrusted: a clip, or a timeline's media, outside the served folders is refused."""
    from animstudio.editing.timeline import Edit

    elsewhere = tmp_path_factory.mktemp("elsewhere")
    outside = elsewhere / "clip.mp4"
    outside.write_bytes(sample_clip[0].read_bytes())
    sneaky = Edit()
    sneaky.cut(outside, 0.0, 1.0)
    served = Path(server_media := str(sample_clip[0].parent)) / "sneaky.otio"
    sneaky.save(served)
    try:
        with httpx.Client(base_url=server, headers=KEY, timeout=60) as http:
            for kind, clip, needle in (("analyze", str(outside), "outside the folders"),
                                       ("analyze", "/etc/passwd", "outside the folders"),
                                       ("analyze", f"{server_media}/../{elsewhere.name}/clip.mp4", "outside"),
                                       ("render", str(served), "media of")):
                reply = http.post("/jobs", json={"kind": kind, "params": {"clip": clip}})
                assert reply.status_code == 403 and needle in reply.json()["detail"], reply.text
    finally:
        served.unlink()


def wait_ended(http: httpx.Client, job_id: str, timeout_s: float = 180) -> dict:
    deadline = time.monotonic() + timeout_s
    while (job := http.get(f"/jobs/{job_id}").json())["status"] not in ("done", "failed", "cancelled"):
        assert time.monotonic() < deadline, job
        time.sleep(0.3)
    return job


def test_a_tool_runs_as_a_job_inside_its_folder(server, sample_clip, studio_home, tmp_path):
    """What the web UI's tool pages do: a tool called as a job of kind "tool"; the files it names stay
    in served folders, uploads and its own folder."""
    clip, truth = sample_clip
    with httpx.Client(base_url=server, headers=KEY, timeout=60) as http:
        job = http.post("/jobs", json={"kind": "tool", "params": {"tool": "analyze.scenes",
                                                                  "args": {"file": str(clip)}}})
        assert job.status_code == 201, job.text
        done = wait_ended(http, job.json()["id"])
        assert done["status"] == "done", done["error"]
        result = http.get(f"/jobs/{done['id']}/artifacts/result.json").json()
        assert [s["start_frame"] for s in result["shots"]] == [s["start"] for s in truth["shots"]]
        assert [f["name"] for f in http.get(f"/jobs/{done['id']}/artifacts").json()] == ["result.json"]
        assert http.post(f"/jobs/{done['id']}/resume").status_code == 409   # done: nothing to resume
        listed = http.get("/jobs").json()
        assert listed[0]["id"] == done["id"] and listed[0]["kind"] == "tool"
        for args, status, needle in (
                ({"file": "/etc/hostname"}, 403, "outside the folders"),
                ({"file": "../../../../etc/hostname"}, 403, "leaves the job's folder"),
                ({"file": "upload:nope"}, 422, "no upload")):
            reply = http.post("/jobs", json={"kind": "tool", "params": {"tool": "analyze.scenes", "args": args}})
            assert reply.status_code == status and needle in reply.json()["detail"], reply.text
        url = http.post("/jobs", json={"kind": "tool", "params": {"tool": "voice.say", "args": {
            "text": "hi", "output": "hi.wav", "url": "http://169.254.169.254/"}}})
        assert url.status_code == 422 and "url may not be set" in url.json()["detail"]
        unknown = http.post("/jobs", json={"kind": "tool", "params": {"tool": "disk.format", "args": {}}})
        assert unknown.status_code == 404 and "disk.format" in unknown.json()["detail"]
        catalog = http.get("/catalog").json()
        assert "clip" in catalog["pipelines"]["parody"]["schema"]["properties"] and "agent" not in catalog["pipelines"]
        assert catalog["tools"]["voice.say"]["parameters"]["required"] == ["text", "output"]
        assert catalog["max_upload_mb"] == 1
        assert str(clip) in [m["path"] for m in http.get("/media").json()]


def test_subtitles_are_served_as_webvtt(server, sample_clip, studio_home):
    store = JobStore(studio_home / "jobs")
    job = store.create("tool", {"tool": "voice.say", "args": {}}, ["call"])
    (job.folder / "line.srt").write_text("1\n00:00:01,250 --> 00:00:02,500\nHello there\n\n", encoding="utf-8")
    with httpx.Client(base_url=server, headers=KEY, timeout=60) as http:
        vtt = http.get(f"/jobs/{job.id}/artifacts/line.srt", params={"as": "vtt"})
        assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt")
        assert vtt.text == "WEBVTT\n\n1\n00:00:01.250 --> 00:00:02.500\nHello there\n"
        assert http.get(f"/jobs/{job.id}/artifacts/line.srt", params={"as": "pdf"}).status_code == 400
