"""``animstudio agent``: plan a request, carry it out, resume a run."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from animstudio.cli import ui

app = typer.Typer(no_args_is_help=True)

FILES = typer.Option([], "--file", "-f", help="A file the request is about (repeat).")
JSON_OPT = typer.Option(False, "--json", help="Print JSON.")


def _say_event(event: dict[str, Any]) -> None:
    kind = event.get("kind")
    if kind == "plan":
        if event.get("declined"):
            ui.say(f"declined: {event['declined']}")
            return
        ui.say(f"plan: {event['intent']}")
        for i, step in enumerate(event["steps"]):
            ui.say(f"  {i}. {step['tool']} {json.dumps(step['args'])}")
    elif kind == "action":
        ui.say(f"-> {event['tool']} (step {event['step']}, try {event['attempt']})")
    elif kind == "score" and event.get("note"):
        ui.say(f"   {'passed' if event['passed'] else 'failed'}: {event['note']}")
    elif kind == "observation" and event.get("error"):
        ui.say(f"   error: {event['error']}")
    elif kind == "decision":
        ui.say(f"   decided {event['what']}: {event['chosen']} ({event['why']})")
    elif kind in ("replan", "guard"):
        ui.say(f"{kind}: {event.get('why', '')}")


def _finish(outcome: Any, as_json: bool) -> None:
    if as_json:
        ui.print_json(outcome.model_dump(mode="json"))
    elif outcome.status == "waiting":
        ui.say(f"run {outcome.run_id} waits for approval: {outcome.waiting_for}\n"
               f"go on with: animstudio agent resume {outcome.run_id} --yes")
    else:
        ui.say(f"run {outcome.run_id}: {outcome.status}{': ' + outcome.message if outcome.message else ''}")
        for step in outcome.steps:
            files = [v for k, v in (step.result or {}).items() if k in ("output", "files", "timeline", "sheet")]
            ui.say(f"  {step.index}. {step.tool}: {'ok' if step.ok else 'failed'} {json.dumps(files) if files else ''}")
    if outcome.status in ("failed", "stopped"):
        raise typer.Exit(1)


@app.command("plan")
def plan(
    request: str = typer.Argument(..., metavar="REQUEST", help="What to make, in your words."),
    files: list[str] = FILES,
    as_json: bool = JSON_OPT,
) -> None:
    """The plan for a request (tools, arguments, dependencies), or why it is declined; nothing runs."""
    from animstudio.agent.plan import make_plan

    made = make_plan(request, files)
    if as_json:
        ui.print_json({"intent": made.intent, "steps": [s.model_dump() for s in made.steps],
                       "declined": made.declined, "confidence": made.confidence, "seconds": made.seconds})
        return
    _say_event({"kind": "plan", "intent": made.intent, "declined": made.declined,
                "steps": [s.model_dump() for s in made.steps]})


@app.command("run")
def run(
    request: str = typer.Argument(..., metavar="REQUEST", help="What to make, in your words."),
    files: list[str] = FILES,
    yes: bool = typer.Option(False, "--yes", "-y", help="Run expensive steps without asking."),
    run_id: str = typer.Option(None, "--id", help="Name the run (default: a new id)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Plan a request and carry it out, checking each step; asks before expensive steps."""
    from animstudio.agent.run import resume, run_request

    outcome = run_request(request, files, run_id=run_id, yes=yes, on_event=None if as_json else _say_event)
    while outcome.status == "waiting" and not as_json and sys.stdin.isatty():
        answer = typer.confirm(f"{outcome.waiting_for}. Go on?", default=True)
        outcome = resume(outcome.run_id, approve=answer, on_event=_say_event)
    _finish(outcome, as_json)


@app.command("resume")
def resume_run(
    run_id: str = typer.Argument(..., metavar="RUN_ID", help="The run to go on with."),
    yes: bool = typer.Option(None, "--yes/--no", help="Approve (or refuse) the step the run waits for."),
    as_json: bool = JSON_OPT,
) -> None:
    """Go on with a run that stopped (a crash, a kill, or a step waiting for approval); finished steps
    are not redone."""
    from animstudio.agent.run import resume

    _finish(resume(run_id, approve=yes, on_event=None if as_json else _say_event), as_json)


@app.command("chat")
def chat(
    message: str = typer.Argument(None, metavar="[MESSAGE]", help="One message; without it, a conversation on "
                                                                   "standard input (an empty line ends it)."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Run what you ask without asking again (what a page or "
                                                         "document asks for always waits for you)."),
) -> None:
    """Talk with the studio: the model calls the tools (reading ones freely, others with your say-so)."""
    from animstudio.agent.chat import Chat

    def approve(tool: str, args: dict[str, Any]) -> bool:
        if not sys.stdin.isatty():
            return False
        return typer.confirm(f"run {tool} {json.dumps(args)}?", default=False)

    talk = Chat(approve=approve, yes=yes)
    if message:
        ui.say(talk.send(message))
        return
    for line in sys.stdin:
        if not line.strip():
            break
        ui.say(talk.send(line.strip()))
