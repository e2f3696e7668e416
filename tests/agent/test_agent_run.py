"""The agent's loop on LangGraph, driven by a scripted LLM and test tools: steps run in order with the
files they make wired through, a tool's error comes back as an observation and the rest is planned
again, a failed quality gate is retried with a new seed, a declined request calls nothing, the run
waits for approval before expensive steps, and a run killed mid-step resumes without redoing what
finished."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agent_tools import plan_json

from animstudio.agent.run import resume, run_request


def ledger_lines(ledger: Path) -> list[str]:
    return ledger.read_text().splitlines() if ledger.exists() else []


def test_steps_run_in_order_and_the_trace_records_them(test_tools, scripted, tmp_path):
    client = scripted(lambda request: plan_json(("test.write", {"text": "hello", "output": "out/a.txt"}),
                                                ("test.upper", {"source": "out/guessed-name.txt",
                                                                "output": "out/b.txt"}, [0])))
    events = []
    outcome = run_request("write hello, then shout it", client=client, yes=True, on_event=events.append)
    assert outcome.status == "done", outcome.message
    assert (tmp_path / "out" / "b.txt").read_text() == "HELLO"
    # the planner guessed a name; the step took the file the step it depends on really wrote
    assert outcome.steps[1].args["source"] == "out/a.txt"
    assert ledger_lines(test_tools) == ["write out/a.txt", "upper out/a.txt"]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "plan" and kinds.count("action") == 2 and kinds.count("score") == 2
    trace = [json.loads(line) for line in (Path(outcome.folder) / "trace.jsonl").read_text().splitlines()]
    assert [e["kind"] for e in trace] == kinds


def test_a_tool_error_is_observed_and_the_rest_planned_again(test_tools, scripted):
    seen = []

    def script(request):
        seen.append(request["messages"][-1]["content"])
        if "This failed" in seen[-1]:
            return plan_json(("test.write", {"text": "instead", "output": "out/c.txt"}))
        return plan_json(("test.upper", {"source": "missing.txt", "output": "out/b.txt"}))

    outcome = run_request("shout missing.txt", client=scripted(script), yes=True)
    assert outcome.status == "done" and outcome.steps[0].ok is False
    assert "no file missing.txt" in outcome.steps[0].error
    assert "no file missing.txt" in seen[1]        # the error went back to the model
    # the failed step was replaced; the run's history keeps both
    assert [s.tool for s in outcome.plan.steps] == ["test.write"]
    assert [(s.tool, s.ok) for s in outcome.steps] == [("test.upper", False), ("test.write", True)]


def test_a_failed_gate_is_retried_with_a_new_seed(test_tools, scripted, monkeypatch):
    from animstudio.agent import gates

    monkeypatch.setitem(gates.GATES, "test.reel", gates.GATES["edit.highlights"])
    client = scripted(lambda request: plan_json(("test.reel", {"duration_s": 8, "output": "out/r.mp4"})))
    outcome = run_request("an 8 s reel", client=client, yes=True)
    assert outcome.status == "done"
    step = outcome.steps[0]
    assert step.attempts == 3 and step.verdict["passed"] and step.args["seed"] == 3000
    assert ledger_lines(test_tools) == ["reel seed=0", "reel seed=1000", "reel seed=3000"]


def test_a_declined_request_calls_nothing(test_tools, scripted):
    client = scripted(lambda request: plan_json(declined="The studio does not post to social networks."))
    outcome = run_request("post my video to Instagram", client=client, yes=True)
    assert outcome.status == "declined" and "social networks" in outcome.message
    assert outcome.steps == [] and ledger_lines(test_tools) == []


def test_a_repeated_call_is_stopped(test_tools, scripted):
    same = ("test.write", {"text": "x", "output": "out/x.txt"})
    outcome = run_request("write x twice", client=scripted(lambda r: plan_json(same, same)), yes=True)
    assert outcome.status == "stopped" and "repeats an earlier call" in outcome.message
    assert ledger_lines(test_tools) == ["write out/x.txt"]


def test_a_step_that_writes_over_a_file_waits_too(test_tools, scripted, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.txt").write_text("mine")
    client = scripted(lambda r: plan_json(("test.write", {"text": "a", "output": "out/a.txt"})))
    waiting = run_request("write a", client=client)
    assert waiting.status == "waiting" and "writes over out/a.txt" in waiting.waiting_for
    assert (tmp_path / "out" / "a.txt").read_text() == "mine"


def test_an_expensive_step_waits_for_approval(test_tools, scripted, monkeypatch):
    from animstudio.agent import run

    monkeypatch.setattr(run, "EXPENSIVE", {"test.slow"})
    client = scripted(lambda r: plan_json(("test.write", {"text": "a", "output": "out/a.txt"}),
                                          ("test.slow", {"seconds": 0.1, "output": "out/s.txt"})))
    waiting = run_request("write, then the slow thing", client=client, run_id="ask-1")
    assert waiting.status == "waiting" and "test.slow takes minutes" in waiting.waiting_for
    assert ledger_lines(test_tools) == ["write out/a.txt"]
    refused = resume("ask-1", approve=False, client=client)
    assert refused.status == "denied" and ledger_lines(test_tools) == ["write out/a.txt"]
    (test_tools.parent / "out" / "a.txt").unlink()   # else writing it again would wait for approval too
    assert run_request("write, then the slow thing", client=client, run_id="ask-2").status == "waiting"
    done = resume("ask-2", approve=True, client=client)
    assert done.status == "done" and ledger_lines(test_tools)[-1] == "slow out/s.txt"


RUNNER = """
import sys
sys.path.insert(0, {tests!r})
import agent_tools
from agent_tools import plan_json
from animstudio import plugins
from animstudio.testing import engines
from animstudio.llm.client import Client
from animstudio.agent.run import run_request, resume
plugins.register_module(agent_tools, name="agent-test-tools")
plugins.register_module(engines)
client = Client(plugins.get_backend("llm_engine", "scripted")(script=lambda r: plan_json(
    ("test.write", {{"text": "a", "output": "out/a.txt"}}),
    ("test.slow", {{"seconds": float(sys.argv[2]), "output": "out/s.txt"}}, [0]))))
outcome = (run_request("two steps", client=client, run_id="crash-1", yes=True) if sys.argv[1] == "run"
           else resume("crash-1", client=client))
print(outcome.status)
"""


def test_a_run_killed_mid_step_resumes_without_redoing_finished_steps(test_tools, tmp_path):
    script = tmp_path / "runner.py"
    script.write_text(RUNNER.format(tests=str(Path(__file__).parent)))
    env = dict(os.environ)
    first = subprocess.Popen([sys.executable, str(script), "run", "60"], env=env, cwd=tmp_path)
    deadline = time.monotonic() + 120
    while "slow out/s.txt" not in ledger_lines(test_tools):
        assert first.poll() is None and time.monotonic() < deadline, "the run ended before its second step"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert not (tmp_path / "out" / "s.txt").exists()
    (tmp_path / "out" / "s.go").touch()   # the step runs again in full, quickly
    second = subprocess.run([sys.executable, str(script), "resume", "0.1"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 0 and second.stdout.strip() == "done", second.stderr[-2000:]
    # the first step ran once; only the killed step ran again
    assert ledger_lines(test_tools) == ["write out/a.txt", "slow out/s.txt", "slow out/s.txt"]
    assert (tmp_path / "out" / "s.txt").read_text() == "done"


def test_a_given_plan_with_no_steps_is_done_at_once(test_tools):
    from animstudio.agent.plan import Plan

    outcome = run_request("nothing", plan=Plan(intent="nothing to do", steps=[]), yes=True)
    assert outcome.status == "done" and outcome.steps == [] and ledger_lines(test_tools) == []


def test_every_decision_is_seen_as_it_is_made(test_tools, scripted, monkeypatch):
    from animstudio.agent.decisions import Decisions

    def prepare(self, tool, args):
        self.decide("which take", "the first", "a test decision")
        return dict(args)

    monkeypatch.setattr(Decisions, "prepare", prepare)
    events = []
    client = scripted(lambda request: plan_json(("test.write", {"text": "a", "output": "out/a.txt"})))
    outcome = run_request("write a", client=client, yes=True, on_event=events.append)
    trace = [json.loads(line) for line in (Path(outcome.folder) / "trace.jsonl").read_text().splitlines()]
    assert [e["kind"] for e in events] == [e["kind"] for e in trace] == [
        "plan", "decision", "action", "observation", "score"]
