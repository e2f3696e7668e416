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
    from animstudio.agent.events import describe

    for line in describe(event):
        ui.say(line)


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
        ui.print_json(made.shown())
        return
    _say_event({"kind": "plan", "intent": made.intent, "declined": made.declined,
                "steps": [s.model_dump() for s in made.steps]})


def _carry_out(job_id: str, as_json: bool) -> Any:
    """Run the agent job in this process, printing its typed events as they are recorded; asks at a
    terminal when it waits for approval."""
    from animstudio.agent.job import answer
    from animstudio.jobs import JobStore, run_watched

    store = JobStore()
    seen = [0]

    def say(event: Any) -> None:
        seen[0] = event.seq
        if event.data and not as_json:
            _say_event(event.data)

    while True:
        job, error = run_watched(job_id, say, store, after=seen[0])
        if job.status != "waiting" or as_json or not sys.stdin.isatty():
            break
        answer(job.folder, typer.confirm(f"{job.error.split('; approve with')[0]}. Go on?", default=True))
    if error is not None and job.status not in ("failed", "waiting"):
        raise error
    return job


def _report(job: Any, as_json: bool) -> None:
    outcome_file = job.folder / "outcome.json"
    outcome = json.loads(outcome_file.read_text(encoding="utf-8")) if outcome_file.exists() else {}
    if as_json:
        ui.print_json({"job": job.id, "status": job.status, "error": job.error, **outcome})
    elif job.status == "waiting":
        ui.say(f"run {job.id} waits for approval: {job.error}")
    else:
        ui.say(f"run {job.id}: {outcome.get('status', job.status)}"
               f"{': ' + (outcome.get('message') or job.error) if (outcome.get('message') or job.error) else ''}")
        for step in outcome.get("steps", []):
            files = [v for k, v in (step.get("result") or {}).items() if k in ("output", "files", "timeline", "sheet")]
            ui.say(f"  {step['index']}. {step['tool']}: {'ok' if step['ok'] else 'failed'} "
                   f"{json.dumps(files) if files else ''}")
    if job.status in ("failed", "cancelled"):
        raise typer.Exit(1)


@app.command("run")
def run(
    request: str = typer.Argument(..., metavar="REQUEST", help="What to make, in your words."),
    files: list[str] = FILES,
    yes: bool = typer.Option(False, "--yes", "-y", help="Run expensive steps without asking."),
    as_json: bool = JSON_OPT,
) -> None:
    """Plan a request and carry it out as a job, checking each step; asks before expensive steps.
    The run is a job: `animstudio jobs list/show/cancel` see it, `agent resume ID` goes on after a kill."""
    from animstudio.jobs import submit

    job = submit("agent", {"request": request, "files": files, "yes": yes})
    if not as_json:
        ui.say(f"run {job.id}")
    _report(_carry_out(job.id, as_json), as_json)


@app.command("resume")
def resume_run(
    run_id: str = typer.Argument(..., metavar="RUN_ID", help="The run (its job id) to go on with."),
    yes: bool = typer.Option(None, "--yes/--no", help="Approve (or refuse) the step the run waits for."),
    as_json: bool = JSON_OPT,
) -> None:
    """Go on with a run that stopped (a crash, a kill, or a step waiting for approval); finished steps
    are not redone."""
    from animstudio.agent.job import answer
    from animstudio.errors import InvalidInputError
    from animstudio.jobs import JobStore

    job = JobStore().get(run_id)
    if job.kind != "agent":
        raise InvalidInputError(f"job {run_id} is a {job.kind} job, not an agent run: animstudio jobs resume {run_id}")
    if yes is not None:
        answer(job.folder, yes)
    _report(_carry_out(run_id, as_json), as_json)


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
