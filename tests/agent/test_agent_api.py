"""Agent runs as jobs, over the studio API (a real server process) and on the command line, the LLM a
scripted engine served over HTTP: the run's typed steps stream as server-sent events, a step reaching
outside the served folders is refused and planned again, and files a request names must be uploads or
lie in served folders."""

from __future__ import annotations

import json
import os
import sys

import httpx
import pytest
from agent_tools import plan_json

from conftest import free_port, running_process, sse_events

pytest.importorskip("fastapi")

@pytest.fixture(autouse=True)
def runs_not_recorded(studio_home, monkeypatch):
    """These runs stay out of the knowledge base (test_agent_memory checks the recording)."""
    monkeypatch.setenv("ANIMSTUDIO_AGENT__RECORD_RUNS", "false")


def test_an_agent_run_streams_its_steps(studio_home, sample_clip, scripted_llm, tmp_path):
    clip, truth = sample_clip
    asked = []

    def script(request):
        asked.append(request["messages"][-1]["content"])
        if "This failed" in asked[-1]:
            return plan_json(("analyze.scenes", {"file": str(clip)}))
        return plan_json(("analyze.scenes", {"file": "/etc/hostname"}))

    scripted_llm(script)
    port = free_port()
    with running_process([sys.executable, "-m", "animstudio", "studio", "serve", "--port", str(port),
                          "--media", str(clip.parent)], port, env=dict(os.environ), what="studio", wait_s=60,
                         health="/openapi.json", suffix="") as url, httpx.Client(base_url=url, timeout=120) as http:
        outside = http.post("/agent/runs", json={"request": "find the shots", "files": [str(tmp_path / "x.mp4")]})
        assert outside.status_code == 403 and "outside the folders" in outside.json()["detail"]
        assert http.post("/agent/runs", json={"request": ""}).status_code == 422
        run = http.post("/agent/runs", json={"request": "where does each shot start?", "files": [str(clip)]})
        assert run.status_code == 201, run.text
        job_id = run.json()["id"]
        events = sse_events(http, f"/jobs/{job_id}/events")
        typed = [kind for kind, _ in events if kind not in ("progress", "status")]
        data = [data for kind, data in events if kind not in ("progress", "status", "end")]
        # the step reaching outside is refused before it runs, and planned again
        assert typed == ["plan", "observation", "replan", "action", "observation", "score", "end"], typed
        refused = [d["data"] for d in data if d["kind"] == "observation" and d["data"].get("error")]
        assert "hostname is outside the folders this call may use" in refused[0]["error"]
        assert str(clip) in asked[0]                               # the request's file went to the planner
        final = http.get(f"/jobs/{job_id}").json()
        assert final["status"] == "done" and final["kind"] == "agent"
        outcome = http.get(f"/jobs/{job_id}/artifacts/outcome.json").json()
        shots = outcome["steps"][-1]["result"]["shots"]
        assert [s["start_frame"] for s in shots] == [s["start"] for s in truth["shots"]]
        late = http.post(f"/agent/runs/{job_id}/approval", json={"approve": True})
        assert late.status_code == 409 and "not an agent run waiting" in late.json()["detail"]


def test_agent_run_on_the_command_line_is_a_job(studio_home, sample_clip, scripted_llm):
    from conftest import run_cli

    clip, truth = sample_clip
    scripted_llm(lambda request: plan_json(("analyze.scenes", {"file": str(clip)})))
    ran = run_cli("agent", "run", "where does each shot start?", "-f", str(clip), "--json")
    assert ran.returncode == 0, ran.stderr[-2000:]
    outcome = json.loads(ran.stdout)
    assert outcome["status"] == "done" and outcome["steps"][0]["tool"] == "analyze.scenes"
    assert len(outcome["steps"][0]["result"]["shots"]) == len(truth["shots"])
    listed = json.loads(run_cli("jobs", "list", "--json").stdout)
    assert [(j["id"], j["kind"], j["status"]) for j in listed] == [(outcome["job"], "agent", "done")]
    again = run_cli("agent", "resume", outcome["job"])
    assert again.returncode == 0 and f"run {outcome['job']}: done" in again.stdout   # nothing left to do
    wrong = run_cli("agent", "resume", "nope")
    assert wrong.returncode != 0 and "no job 'nope'" in wrong.stderr
