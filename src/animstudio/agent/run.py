"""Carrying a request out: a LangGraph state graph, checkpointed in SQLite in the studio home.

The graph is ``plan -> act -> act -> ... -> done``, with ``replan`` after a step that fails its
quality gate on every try. Each ``act`` runs the plan's next step (checked arguments, the studio's
decisions, the tool, its gate, bounded retries) and is one checkpoint: a run killed at any point
resumes from the step after the last one finished, so finished work is never redone. The plan lives
in the graph's state rather than in its shape, so a re-plan can replace the steps still to come.

Before a step that costs minutes or writes over a file, the run stops for the user's approval
(LangGraph's ``interrupt``) unless it was started with ``yes``. Guards: a step budget, a time
budget, and a call repeated with the same arguments is refused.

    outcome = run_request("Cut a 12 s reel of match.mp4", files=["match.mp4"], run_id="r1", yes=True)
    outcome = resume("r1")                         # after a crash or an approval stop
"""

from __future__ import annotations

import json
import operator
import sqlite3
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypedDict

from pydantic import BaseModel, Field

from animstudio.agent.decisions import Decisions
from animstudio.agent.gates import gate
from animstudio.agent.plan import Plan, Step, check_plan, make_plan
from animstudio.confinement import confined
from animstudio.errors import InvalidInputError, StudioError

# steps that take minutes or more of the machine: the user approves them first unless told "yes"
EXPENSIVE = {"parody", "narrate", "edit.render", "edit.highlights", "image.generate", "image.character_sheet",
             "voice.dataset", "voice.batch", "analyze.report"}
RETRIES = 2          # tries after the first when a step fails its gate
REPLANS = 1          # new plans for what is left after a step fails every try


class StepOutcome(BaseModel):
    index: int
    tool: str
    args: dict[str, Any]
    ok: bool
    result: dict[str, Any] | None = None
    error: str | None = Field(None, description="the tool's one-line error, handed back as an observation")
    verdict: dict[str, Any] | None = None
    attempts: int = 1
    seconds: float = 0.0


class Outcome(BaseModel):
    run_id: str
    status: str = Field(description="done, declined, failed, stopped (a guard), waiting (for approval), denied "
                                    "(the user said no to a step)")
    plan: Plan | None = None
    steps: list[StepOutcome] = Field(default_factory=list)
    waiting_for: str | None = Field(None, description="what the run waits for the user to approve")
    message: str = ""
    folder: str = ""


class RunState(TypedDict, total=False):
    request: str
    files: list[str]
    yes: bool
    plan: dict[str, Any]
    next: int
    outcomes: dict[str, dict[str, Any]]
    trace: Annotated[list[dict[str, Any]], operator.add]
    replans: int
    started: float
    status: str
    message: str


def runs_folder() -> Path:
    from animstudio.config import load_settings

    folder = load_settings().home / "agent"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def checkpointer(path: Path | None = None) -> Any:
    """LangGraph's SQLite checkpointer on the studio home's ``agent/checkpoints.sqlite``."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    conn = sqlite3.connect(str(path or runs_folder() / "checkpoints.sqlite"), check_same_thread=False)
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


def _event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "at": round(time.time(), 3), **fields}


def _decided(decisions: Decisions) -> list[dict[str, Any]]:
    return [_event("decision", **d.model_dump()) for d in decisions.made]


class Runner:
    """The graph's nodes over the registered tools; ``client`` is the LLM (the configured one by
    default), ``on_event`` sees every trace event as it happens."""

    def __init__(self, client: Any = None, on_event: Callable[[dict[str, Any]], None] | None = None,
                 max_steps: int | None = None, max_seconds: float | None = None,
                 confine: tuple[Path, list[Path]] | None = None) -> None:
        from animstudio.config import load_settings

        settings = load_settings().agent
        self.client = client
        self.on_event = on_event or (lambda event: None)
        self.max_steps = max_steps or settings.max_steps
        self.max_seconds = max_seconds or settings.max_seconds
        self.confine = confine   # (where outputs go, the folders files may be read from): runs for others

    def _emit(self, *events: dict[str, Any]) -> list[dict[str, Any]]:
        for event in events:
            self.on_event(event)
        return list(events)

    # ------------------------------------------------------------------ nodes

    def plan(self, state: RunState) -> dict[str, Any]:
        if state.get("plan"):
            return {}
        decisions = Decisions()
        context = self._knowledge(state["request"], decisions)
        plan = make_plan(state["request"], state.get("files"), client=self._client(), context=context)
        problems = check_plan(plan)
        events = [*_decided(decisions), _event("plan", intent=plan.intent, steps=[s.model_dump() for s in plan.steps],
                                               declined=plan.declined, confidence=plan.confidence, problems=problems)]
        if plan.declined:
            return {"plan": plan.model_dump(), "status": "declined", "message": plan.declined,
                    "trace": self._emit(*events)}
        return {"plan": plan.model_dump(), "next": 0, "outcomes": {}, "replans": 0, "started": time.time(),
                "status": "running", "trace": self._emit(*events)}

    def act(self, state: RunState) -> dict[str, Any]:
        from langgraph.types import interrupt

        from animstudio.tools import tools

        plan = Plan.model_validate(state["plan"])
        index = state.get("next", 0)
        if index >= len(plan.steps):   # a plan with nothing (left) to do
            return {"status": "done"}
        step = plan.steps[index]
        outcomes = dict(state.get("outcomes") or {})
        if len(outcomes) >= self.max_steps:
            return self._stop(f"the step budget ({self.max_steps}) is spent")
        if time.time() - state.get("started", time.time()) > self.max_seconds:
            return self._stop(f"the time budget ({self.max_seconds:g} s) is spent")
        done_calls = {json.dumps([o["tool"], o["args"]], sort_keys=True) for o in outcomes.values()}
        known = tools()
        if step.tool not in known:
            return self._failed(index, f"no tool {step.tool!r}")
        decisions = Decisions()
        args = decisions.prepare(step.tool, self._wired(step, outcomes))
        if self.confine is not None:
            try:
                args = confined(args, *self.confine, schema=known[step.tool].schema())
            except InvalidInputError as exc:   # an observation: the planner may find another way
                return self._failed(index, str(exc))
        if json.dumps([step.tool, args], sort_keys=True) in done_calls:
            return self._stop(f"step {index} repeats an earlier call of {step.tool} with the same arguments")
        why = self._needs_approval(step.tool, args)
        if why and not state.get("yes"):
            answer = interrupt({"step": index, "tool": step.tool, "args": args, "why": why})
            if not answer:     # the user's choice, not a guard: the run ends as denied
                why = f"step {index} ({step.tool}) was not approved"
                said = _event("decision", what=f"run step {index} ({step.tool})", chosen="no",
                              why="the user did not approve it")
                return {"status": "denied", "message": why, "trace": self._emit(said)}
        tool = known[step.tool]
        events = self._emit(*_decided(decisions))
        started = time.perf_counter()
        outcome: StepOutcome | None = None
        for attempt in range(1 + RETRIES):
            events += self._emit(_event("action", step=index, tool=step.tool, args=args, attempt=attempt + 1))
            try:
                result = tool.run(tool.check(args)).model_dump(mode="json")
            except StudioError as exc:   # the tool's error is an observation; a bug in the framework is not
                outcome = StepOutcome(index=index, tool=step.tool, args=args, ok=False, error=str(exc),
                                      attempts=attempt + 1)
                events += self._emit(_event("observation", step=index, error=str(exc)))
                break
            verdict = gate(step.tool, args, result)
            events += self._emit(_event("observation", step=index, result=_brief(result)),
                                 _event("score", step=index, **verdict.model_dump()))
            outcome = StepOutcome(index=index, tool=step.tool, args=args, ok=verdict.passed, result=result,
                                  verdict=verdict.model_dump(), attempts=attempt + 1)
            if verdict.passed:
                break
            if attempt < RETRIES:
                retry = Decisions()
                args = retry.after_failure(step.tool, args, attempt + 1, set(tool.Options.model_fields))
                events += self._emit(*_decided(retry))
        assert outcome is not None
        outcome.seconds = round(time.perf_counter() - started, 3)
        outcomes[str(len(outcomes))] = outcome.model_dump()   # in the order they ran: a replaced step's too
        update: dict[str, Any] = {"outcomes": outcomes, "trace": events}
        if outcome.ok:
            update["next"] = index + 1
            update["status"] = "done" if index + 1 >= len(plan.steps) else "running"
            update["message"] = ""   # a failure that was planned around is in the trace, not the outcome
        else:
            update["status"] = "replan"
            update["message"] = outcome.error or (outcome.verdict or {}).get("note", "")
        return update

    def replan(self, state: RunState) -> dict[str, Any]:
        plan = Plan.model_validate(state["plan"])
        index = state.get("next", 0)
        if state.get("replans", 0) >= REPLANS:
            return {"status": "failed", "message": f"step {index} ({plan.steps[index].tool}) failed: "
                                                   f"{state.get('message', '')}"}
        done = [f"- {o['tool']} {json.dumps(o['args'])}: done" for o in (state.get("outcomes") or {}).values()
                if o["ok"]]
        failed = plan.steps[index]
        context = ("Already done:\n" + "\n".join(done) + "\n" if done else "") + \
            f"This failed: {failed.tool} {json.dumps(failed.args)}: {state.get('message', '')}\n" \
            "Plan only what is left, another way."
        fresh = make_plan(state["request"], state.get("files"), client=self._client(), context=context)
        events = [_event("replan", failed=index, why=state.get("message", ""), intent=fresh.intent,
                         steps=[s.model_dump() for s in fresh.steps], declined=fresh.declined)]
        if fresh.declined or not fresh.steps:
            return {"status": "failed", "message": f"no other way: {fresh.declined or 'no steps'}",
                    "trace": self._emit(*events)}
        shifted = [Step(tool=s.tool, args=s.args, after=[a + index for a in s.after]) for s in fresh.steps]
        plan.steps = plan.steps[:index] + shifted
        return {"plan": plan.model_dump(), "replans": state.get("replans", 0) + 1, "status": "running",
                "trace": self._emit(*events)}

    # ------------------------------------------------------------------ helpers

    def _client(self) -> Any:
        if self.client is None:
            from animstudio.llm.client import Client

            self.client = Client()
        return self.client

    @staticmethod
    def _knowledge(request: str, decisions: Decisions) -> str:
        """The knowledge base's pages of what the request names, for the planner (a decision, logged,
        wherever there is a knowledge base to ask)."""
        from animstudio.agent.memory import bible_context

        what = "more context from the knowledge base"
        try:
            found = bible_context(request)
        except StudioError as exc:
            decisions.decide(what, "none", f"the knowledge base cannot be read: {exc}", ["pages", "none"])
            return ""
        if found is None:   # no knowledge base: nothing to decide
            return ""
        context, names = found
        if names:
            decisions.decide(what, f"{len(names)} page(s)", f"the request names {', '.join(names)}", ["pages", "none"])
        else:
            decisions.decide(what, "none", "the request names no character or style of the knowledge base",
                             ["pages", "none"])
        return context

    def _stop(self, why: str) -> dict[str, Any]:
        return {"status": "stopped", "message": why, "trace": self._emit(_event("guard", why=why))}

    def _failed(self, index: int, why: str) -> dict[str, Any]:
        return {"status": "replan", "message": why, "trace": self._emit(_event("observation", step=index, error=why))}

    @staticmethod
    def _wired(step: Step, outcomes: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """The step's arguments, with a file it names that does not exist replaced by the file of the
        same kind an earlier step it depends on wrote (the planner guesses names; results know them)."""
        args = dict(step.args)
        made: list[str] = []
        for earlier in step.after:
            finished = [o for o in outcomes.values() if o["index"] == earlier and o["ok"]]
            made += _paths((finished[-1].get("result") or {}) if finished else {})
        for key, value in args.items():
            if key == "output" or key.endswith("_output"):   # what the step writes is for it to name
                continue
            if isinstance(value, str) and Path(value).suffix and not Path(value).exists():
                same = [m for m in made if Path(m).suffix == Path(value).suffix and Path(m).exists()]
                if same:
                    args[key] = same[0]
        return args

    @staticmethod
    def _needs_approval(tool: str, args: dict[str, Any]) -> str | None:
        if tool in EXPENSIVE:
            return f"{tool} takes minutes of the machine"
        output = args.get("output")
        if isinstance(output, str) and Path(output).is_file():
            return f"{tool} writes over {output}"
        return None

    # ------------------------------------------------------------------ graph

    def graph(self, saver: Any) -> Any:
        from langgraph.graph import END, START, StateGraph

        builder = StateGraph(RunState)
        builder.add_node("plan", self.plan)
        builder.add_node("act", self.act)
        builder.add_node("replan", self.replan)
        builder.add_edge(START, "plan")

        def route(state: RunState) -> str:
            status = state.get("status")
            return {"running": "act", "replan": "replan"}.get(str(status), END)

        builder.add_conditional_edges("plan", route, ["act", "replan", END])
        builder.add_conditional_edges("act", route, ["act", "replan", END])
        builder.add_conditional_edges("replan", route, ["act", "replan", END])
        return builder.compile(checkpointer=saver)


def _paths(value: Any) -> list[str]:
    """Every string in a result that looks like a file's path."""
    if isinstance(value, str):
        return [value] if Path(value).suffix and len(value) < 400 and "\n" not in value else []
    if isinstance(value, dict):
        return [p for v in value.values() for p in _paths(v)]
    if isinstance(value, list):
        return [p for v in value for p in _paths(v)]
    return []


def _brief(value: Any, depth: int = 0) -> Any:
    """A result cut to what a trace line should hold, keeping its shape: every key of the top three
    levels, the first items of a list and how many more there are, long strings cut."""
    if isinstance(value, dict):
        if depth >= 3:
            return "{...}" if value else {}
        return {k: _brief(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        head = [_brief(v, depth + 1) for v in value[:5]]
        return head + ([f"... {len(value) - 5} more"] if len(value) > 5 else [])
    if isinstance(value, str) and len(value) > 300:
        return value[:300] + "..."
    return value


def _outcome(run_id: str, graph: Any, config: dict[str, Any]) -> Outcome:
    snapshot = graph.get_state(config)
    state: dict[str, Any] = dict(snapshot.values or {})
    waiting = None
    for task in snapshot.tasks or ():
        for pending in getattr(task, "interrupts", ()) or ():
            value = pending.value
            waiting = f"step {value['step']}: {value['why']}" if isinstance(value, dict) else str(value)
    plan = Plan.model_validate(state["plan"]) if state.get("plan") else None
    steps = [StepOutcome.model_validate(o) for _, o in sorted((state.get("outcomes") or {}).items(),
                                                               key=lambda kv: int(kv[0]))]
    status = "waiting" if waiting else str(state.get("status", "running"))
    return Outcome(run_id=run_id, status=status, plan=plan, steps=steps, waiting_for=waiting,
                   message=str(state.get("message", "")), folder=str(runs_folder() / "runs" / run_id))


def _write_trace(run_id: str, graph: Any, config: dict[str, Any], outcome: Outcome) -> None:
    from animstudio.files import atomic_output

    folder = Path(outcome.folder)
    folder.mkdir(parents=True, exist_ok=True)
    trace = (graph.get_state(config).values or {}).get("trace", [])
    with atomic_output(folder / "trace.jsonl", "agent trace") as tmp:
        tmp.write_text("".join(json.dumps(e) + "\n" for e in trace), encoding="utf-8")
    with atomic_output(folder / "outcome.json", "agent outcome") as tmp:
        tmp.write_text(outcome.model_dump_json(indent=2) + "\n", encoding="utf-8")


def _drive(run_id: str, first_input: Any, runner: Runner) -> Outcome:
    config = {"configurable": {"thread_id": run_id}, "recursion_limit": 4 * runner.max_steps + 10}
    with checkpointer() as saver:
        graph = runner.graph(saver)
        graph.invoke(first_input, config)
        outcome = _outcome(run_id, graph, config)
        _write_trace(run_id, graph, config, outcome)
    return outcome


def run_request(request: str, files: list[str] | None = None, run_id: str | None = None, yes: bool = False,
                client: Any = None, on_event: Callable[[dict[str, Any]], None] | None = None,
                plan: Plan | None = None, confine: tuple[Path, list[Path]] | None = None) -> Outcome:
    """Plan (unless ``plan`` is given) and carry out ``request``; stops for approval before expensive
    steps unless ``yes``. ``confine``: (where relative outputs go, the folders files may be read from)."""
    if not request.strip():
        raise InvalidInputError("the request is empty; say what to make")
    run_id = run_id or uuid.uuid4().hex[:12]
    runner = Runner(client=client, on_event=on_event, confine=confine)
    state: RunState = {"request": request, "files": list(files or []), "yes": yes, "trace": []}
    if plan is not None:
        state |= {"plan": plan.model_dump(), "next": 0, "outcomes": {}, "replans": 0, "started": time.time(),
                  "status": "running" if not plan.declined else "declined"}
    return _drive(run_id, state, runner)


def _snapshot(run_id: str) -> Any:
    with checkpointer() as saver:
        return Runner().graph(saver).get_state({"configurable": {"thread_id": run_id}})


def has_run(run_id: str) -> bool:
    """Whether a run of this id has a checkpoint to go on from."""
    return bool(_snapshot(run_id).values)


def resume(run_id: str, approve: bool | None = None, client: Any = None,
           on_event: Callable[[dict[str, Any]], None] | None = None, waiting_ok: bool = False,
           confine: tuple[Path, list[Path]] | None = None) -> Outcome:
    """Go on with a run from its last checkpoint: after a crash, or with the user's answer to the
    approval it waits for (``approve``). Without an answer, a waiting run is an error unless
    ``waiting_ok`` (then its outcome says it waits)."""
    from langgraph.types import Command

    runner = Runner(client=client, on_event=on_event, confine=confine)
    snapshot = _snapshot(run_id)
    if not snapshot.values:
        raise InvalidInputError(f"no agent run {run_id!r}; each run has a folder in {runs_folder() / 'runs'}")
    waiting = any(getattr(t, "interrupts", ()) for t in snapshot.tasks or ())
    if waiting and approve is None:
        if waiting_ok:
            config = {"configurable": {"thread_id": run_id}}
            with checkpointer() as saver:
                return _outcome(run_id, runner.graph(saver), config)
        raise InvalidInputError(f"run {run_id} waits for approval: resume it with --yes (or --no to stop it)")
    return _drive(run_id, Command(resume=bool(approve)) if waiting else None, runner)
