"""How often a request is understood: the studio's planner against smolagents' ToolCallingAgent and
LangGraph's prebuilt ReAct agent, all three on the same model through the studio's gateway (its
embedded llama.cpp engine, one context size) and with the same tool schemas.

Data: the agent requests (shared data, agent/requests_dev.jsonl by default; its README defines the
scoring, applied by animstudio.agent.scoring). The studio plans each request (``make_plan``); the
peers run their own loop over stub tools built from the same OpenAI function definitions, each stub
recording its call and answering "done", and a peer's plan is the calls it made. A request counts
as understood when every expected tool is called, no other tool outside the optional ones is, and
the expected arguments are right; a decline counts when nothing is called. A studio plan is valid on
the first try when a run would carry it out as it came: it parses and every step passes its tool's
own argument check (``check_plan``), with no second request to the model.

    python benchmarks/agent_intents.py                      # all three; ends with RESULT lines
    python benchmarks/agent_intents.py --only studio        # the studio's planner alone
    python benchmarks/agent_intents.py --limit 3 --only studio   # a quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "agent" / "requests_dev.jsonl"
SYSTEMS = ("studio", "smolagents", "langgraph")
INVALID: list[str] = []   # the requests whose first plan the studio would not run (unparseable or refused)


def load(path: Path, limit: int | None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows[:limit] if limit else rows


def asked(row: dict[str, Any]) -> str:
    return row["request"] + (f"\nFiles: {', '.join(row['files'])}" if row.get("files") else "")


def studio(rows: list[dict[str, Any]], base_url: str, model: str) -> list[tuple[list[tuple[str, dict]], float]]:
    from animstudio.agent.plan import check_plan, make_plan
    from animstudio.errors import InvalidInputError
    from animstudio.llm.client import Client, engine

    client = Client(engine("openai", base_url=base_url, model=model))
    out = []
    for row in rows:
        started = time.perf_counter()
        try:
            plan = make_plan(row["request"], row.get("files"), client=client)
        except InvalidInputError as exc:   # the answer was not a plan at all
            print(f"  studio {row['id']}: {exc}", file=sys.stderr)
            INVALID.append(row["id"])
            out.append(([], time.perf_counter() - started))
            continue
        problems = check_plan(plan)   # what a run checks before its first step
        if problems:
            print(f"  studio {row['id']}: not a valid plan: {problems}", file=sys.stderr)
            INVALID.append(row["id"])
        out.append(([(s.tool, s.args) for s in plan.steps], time.perf_counter() - started))
    return out


def _definitions() -> list[dict[str, Any]]:
    from animstudio.agent.functions import functions

    return [f["function"] for f in functions()]


def smolagents_run(rows: list[dict[str, Any]], base_url: str, model: str) -> list[tuple[list[tuple[str, dict]], float]]:
    from smolagents import OpenAIServerModel, Tool, ToolCallingAgent

    from animstudio.agent.functions import tool_name

    calls: list[tuple[str, dict]] = []
    kinds = {"string", "boolean", "integer", "number", "array", "object"}

    def stub(fn: dict[str, Any]) -> Tool:
        params = fn["parameters"]
        required = set(params.get("required", []))
        inputs = {}
        for name, spec in params.get("properties", {}).items():
            kind = spec.get("type") or next((o.get("type") for o in spec.get("anyOf", []) if o.get("type") != "null"),
                                            "any")
            inputs[name] = {"type": kind if kind in kinds else "any", "description": spec.get("description", name),
                            **({} if name in required else {"nullable": True})}

        class Stub(Tool):
            skip_forward_signature_validation = True
            name = fn["name"]
            description = fn["description"]
            output_type = "string"

            def forward(self, **kwargs: Any) -> str:
                calls.append((tool_name(fn["name"]), kwargs))
                return "done"

        Stub.inputs = inputs
        return Stub()

    tools = [stub(fn) for fn in _definitions()]
    llm = OpenAIServerModel(model_id=model, api_base=base_url, api_key="unused", max_tokens=256, temperature=0)
    out = []
    for row in rows:
        calls.clear()
        started = time.perf_counter()
        try:
            ToolCallingAgent(tools=tools, model=llm, max_steps=4, verbosity_level=0).run(asked(row))
        except Exception as exc:  # noqa: BLE001 - a peer's failure counts as not understood
            print(f"  smolagents {row['id']}: {type(exc).__name__}: {str(exc)[:400]}", file=sys.stderr)
        out.append((list(calls), time.perf_counter() - started))
    return out


def langgraph_run(rows: list[dict[str, Any]], base_url: str, model: str) -> list[tuple[list[tuple[str, dict]], float]]:
    from langchain_core.tools import StructuredTool
    from langchain_openai import ChatOpenAI
    from langgraph.prebuilt import create_react_agent

    from animstudio.agent.functions import tool_name

    calls: list[tuple[str, dict]] = []

    def stub(fn: dict[str, Any]) -> StructuredTool:
        def record(**kwargs: Any) -> str:
            calls.append((tool_name(fn["name"]), kwargs))
            return "done"

        return StructuredTool.from_function(record, name=fn["name"], description=fn["description"],
                                            args_schema=fn["parameters"])

    llm = ChatOpenAI(base_url=base_url, api_key="unused", model=model, temperature=0, max_tokens=256)
    agent = create_react_agent(llm, [stub(fn) for fn in _definitions()])
    out = []
    for row in rows:
        calls.clear()
        started = time.perf_counter()
        try:
            agent.invoke({"messages": [("user", asked(row))]}, {"recursion_limit": 9})
        except Exception as exc:  # noqa: BLE001 - a peer's failure counts as not understood
            print(f"  langgraph {row['id']}: {type(exc).__name__}: {str(exc)[:400]}", file=sys.stderr)
        out.append((list(calls), time.perf_counter() - started))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=Path, default=DATA, help="the requests (JSON lines)")
    parser.add_argument("--only", default=",".join(SYSTEMS), help="which systems, comma-separated")
    parser.add_argument("--limit", type=int, default=None, help="only the first N requests")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct", help="the catalog model all three use")
    parser.add_argument("--context", type=int, default=16384,
                        help="the engine's context, tokens (a peer sends every tool's whole schema: ~10,000 tokens)")
    args = parser.parse_args()

    from animstudio.agent.scoring import misses
    from animstudio.testing.servers import running_gateway

    rows = load(args.requests, args.limit)
    runs = {"studio": studio, "smolagents": smolagents_run, "langgraph": langgraph_run}
    chosen = [s for s in args.only.split(",") if s]
    results: dict[str, tuple[int, float, int, int]] = {}
    with running_gateway("--model", args.model, "--context", str(args.context), "--no-cache") as url:
        for system in chosen:
            planned = runs[system](rows, url, args.model)
            understood, declines, declines_clean = 0, 0, 0
            for row, (steps, seconds) in zip(rows, planned, strict=True):
                wrong = misses(steps, row["expect"])
                understood += not wrong
                if not row["expect"]["tools"]:
                    declines += 1
                    declines_clean += not steps
                print(f"{system:10} {row['id']} {seconds:5.1f} s {'ok ' if not wrong else 'BAD'} {wrong} "
                      f"{[t for t, _ in steps]}", flush=True)
            mean = sum(s for _, s in planned) / max(1, len(planned))
            results[system] = (understood, mean, declines, declines_clean)
            if len(planned) > 1:   # the first request may read a long prompt the engine has not cached
                print(f"{system}: the first request {planned[0][1]:.1f} s, the others "
                      f"{sum(s for _, s in planned[1:]) / (len(planned) - 1):.1f} s on average", flush=True)
    for system, (understood, mean, declines, clean) in results.items():
        print(f"{system}: {understood}/{len(rows)} understood, {mean:.1f} s a request, "
              f"{clean}/{declines} declines call nothing")
    if "studio" in results:
        valid = len(rows) - len(INVALID)
        print(f"studio: {valid}/{len(rows)} plans valid on the first try {INVALID or ''}")
        print(f"RESULT studio_plans_valid_first_try {100 * valid / len(rows):.1f} % goal >=95")
    for system, (understood, mean, declines, clean) in results.items():
        print(f"RESULT {system}_understood {understood} of_{len(rows)} goal >={round(0.9 * len(rows))}")
        print(f"RESULT {system}_seconds_per_request {mean:.1f} s goal <10")
        print(f"RESULT {system}_declines_calling_nothing {clean} of_{declines} goal {declines}")


if __name__ == "__main__":
    main()
