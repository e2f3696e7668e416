"""An agent run as a job: the plan and each step are the job's typed events, a step that needs approval
ends the job's turn as "waiting" until the answer comes, a cancel stops the run, and the run's outcome
and trace are the job's artifacts."""

from __future__ import annotations

import json
import threading

import pytest
from agent_tools import plan_json

from animstudio import jobs
from animstudio.agent import run as agent_run
from animstudio.agent.job import answer
from animstudio.jobs import JobStore


@pytest.fixture(autouse=True)
def runs_not_recorded(studio_home, monkeypatch):
    """These runs stay out of the knowledge base (test_agent_memory checks the recording)."""
    monkeypatch.setenv("ANIMSTUDIO_AGENT__RECORD_RUNS", "false")


def test_a_run_is_a_job_with_typed_events(test_tools, scripted_llm, tmp_path):
    scripted_llm(lambda request: plan_json(("test.write", {"text": "hello", "output": "out/a.txt"}),
                                           ("test.upper", {"source": "out/a.txt", "output": "out/b.txt"}, [0])))
    store = JobStore()
    job = jobs.submit("agent", {"request": "write hello, then shout it", "yes": True}, store)
    jobs.run(job.id, store)
    done = store.get(job.id)
    assert done.status == "done", done.error
    assert (tmp_path / "out" / "b.txt").read_text() == "HELLO"
    events = store.events(job.id)
    typed = [e for e in events if e.data]
    assert [e.kind for e in typed] == ["plan", "action", "observation", "score", "action", "observation", "score"]
    assert typed[0].data["steps"][1]["tool"] == "test.upper" and typed[4].data["args"]["source"] == "out/a.txt"
    assert [e.fraction for e in typed if e.kind == "score"] == [0.5, 0.99]
    outcome = json.loads((done.folder / "outcome.json").read_text())
    assert outcome["status"] == "done" and [s["tool"] for s in outcome["steps"]] == ["test.write", "test.upper"]
    assert len((done.folder / "trace.jsonl").read_text().splitlines()) == len(typed)


def test_a_step_needing_approval_waits_then_goes_on(test_tools, scripted_llm, monkeypatch):
    monkeypatch.setattr(agent_run, "EXPENSIVE", {"test.slow"})
    scripted_llm(lambda request: plan_json(("test.write", {"text": "a", "output": "out/a.txt"}),
                                           ("test.slow", {"seconds": 0.1, "output": "out/s.txt"})))
    store = JobStore()
    job = jobs.submit("agent", {"request": "write, then the slow thing"}, store)
    jobs.run(job.id, store)
    waiting = store.get(job.id)
    assert waiting.status == "waiting" and "test.slow takes minutes" in waiting.error
    assert "agent resume" in waiting.error and test_tools.read_text().splitlines() == ["write out/a.txt"]
    jobs.run(job.id, store)                 # no answer yet: still waiting, nothing redone
    assert store.get(job.id).status == "waiting" and len(test_tools.read_text().splitlines()) == 1
    answer(waiting.folder, True)
    jobs.run(job.id, store)
    assert store.get(job.id).status == "done"
    assert test_tools.read_text().splitlines() == ["write out/a.txt", "slow out/s.txt"]


def test_a_refused_step_stops_the_run(test_tools, scripted_llm, monkeypatch):
    monkeypatch.setattr(agent_run, "EXPENSIVE", {"test.slow"})
    scripted_llm(lambda request: plan_json(("test.slow", {"seconds": 0.1, "output": "out/s.txt"})))
    store = JobStore()
    job = jobs.submit("agent", {"request": "the slow thing"}, store)
    jobs.run(job.id, store)
    answer(store.get(job.id).folder, False)
    jobs.run(job.id, store)              # the user's no: the job is cancelled, saying which step
    stopped = store.get(job.id)
    assert stopped.status == "cancelled" and stopped.error == "the run stopped: step 0 (test.slow) was not approved"
    assert not test_tools.exists()


def test_a_cancel_stops_the_run_between_steps(test_tools, scripted_llm):
    scripted_llm(lambda request: plan_json(("test.slow", {"seconds": 1.5, "output": "s1.txt"}),
                                           ("test.write", {"text": "late", "output": "out/late.txt"}, [0])))
    store = JobStore()
    job = jobs.submit("agent", {"request": "slow, then write", "yes": True}, store)
    worker = threading.Thread(target=jobs.run, args=(job.id, store))
    worker.start()
    for event in jobs.follow(store, job.id):
        if event.kind == "action":
            store.set_status(job.id, "cancelled", "cancelled by the user")
    worker.join(30)
    assert store.get(job.id).status == "cancelled"
    assert test_tools.read_text().splitlines() == ["slow s1.txt"]     # the write never ran


def test_a_confined_run_reads_and_writes_only_its_folders(test_tools, scripted_llm, tmp_path):
    outside = tmp_path.parent / "secret.txt"
    outside.write_text("secret")
    seen = []

    def script(request):
        seen.append(request["messages"][-1]["content"])
        if "This failed" in seen[-1]:
            return plan_json(("test.write", {"text": "ok", "output": "out/ok.txt"}))
        return plan_json(("test.upper", {"source": str(outside), "output": "out/b.txt"}))

    scripted_llm(script)
    store = JobStore()
    job = jobs.submit("agent", {"request": "shout the secret", "yes": True,
                                "confined_to": [str(tmp_path / "media")]}, store)
    jobs.run(job.id, store)
    done = store.get(job.id)
    assert done.status == "done", done.error
    refused = [e for e in store.events(job.id) if e.kind == "observation" and e.data.get("error")]
    assert "is outside the folders this call may use" in refused[0].data["error"]
    assert (done.folder / "out" / "ok.txt").read_text() == "ok"        # a relative output lands in the job
    assert not (tmp_path / "out").exists() and test_tools.read_text().splitlines() == [
        f"write {done.folder / 'out' / 'ok.txt'}"]
