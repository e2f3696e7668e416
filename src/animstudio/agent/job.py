"""An agent run as a durable job: ``jobs list/show/cancel/resume`` see it, its plan and each step (the
call, what came back, its score) are the job's typed events, and its LangGraph checkpoints carry the
job's id, so a job killed at any point resumes after the last step that finished.

A step that needs the user's approval ends the job's turn as ``waiting``; the answer is written into
the job's folder (:func:`answer`) and the job is run again.

    job = jobs.submit("agent", {"request": "Cut a 12 s reel of match.mp4", "files": ["match.mp4"]})
    jobs.run(job.id)          # done, or waiting: answer(job, True); jobs.run(job.id)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from animstudio.agent.events import describe
from animstudio.errors import DeniedError, StudioError, WaitingError
from animstudio.hookspecs import hookimpl
from animstudio.jobs.runner import Context, StepFn
from animstudio.pipelines.base import Pipeline

APPROVAL = "approval.json"


def answer(folder: Path, approve: bool) -> None:
    """Record the user's answer to what a waiting agent job asks (read when the job runs again)."""
    from animstudio.files import atomic_output

    with atomic_output(folder / APPROVAL, "approval") as tmp:
        tmp.write_text(json.dumps({"approve": approve}), encoding="utf-8")


class AgentRun(Pipeline):
    """A request carried out by the agent: planned, each step run and checked, re-planned on failure."""

    name = "agent"
    artifacts: ClassVar[tuple[str, ...]] = ("outcome.json", "trace.jsonl")

    class Options(Pipeline.Options):
        request: str = Field(min_length=1, max_length=4000, description="what to make, in the user's words")
        files: list[str] = Field(default_factory=list, description="files the request is about")
        yes: bool = Field(False, description="run expensive steps without stopping for approval")
        output: Path | None = Field(None, description="a new folder for the run's outcome and trace")
        confined_to: list[Path] | None = Field(None, description="read files only from these folders and write "
                                                                 "only into the job's folder (the API's runs)")

    def steps(self) -> list[tuple[str, StepFn]]:
        return [("run", self._run)]

    def _run(self, ctx: Context) -> dict[str, Any]:
        from animstudio.agent.run import has_run, resume, run_request

        run_id = ctx.job_id or ctx.folder.name
        planned = {"steps": 0}

        def on_event(event: dict[str, Any]) -> None:
            kind = event.get("kind", "progress")
            if kind in ("plan", "replan"):
                planned["steps"] = max(1, len(event.get("steps") or []))
            fraction = None
            if kind == "score" or (kind == "observation" and event.get("error")):
                fraction = min(0.99, (event.get("step", 0) + 1) / max(1, planned["steps"]))
            ctx.emit(kind, describe(event)[0], event, fraction)

        params = self.options
        confine = None if params.confined_to is None else (ctx.folder, list(params.confined_to))
        approval = ctx.folder / APPROVAL
        if has_run(run_id):
            approve = json.loads(approval.read_text(encoding="utf-8"))["approve"] if approval.exists() else None
            approval.unlink(missing_ok=True)
            outcome = resume(run_id, approve=approve, on_event=on_event, waiting_ok=True, confine=confine)
        else:
            outcome = run_request(params.request, params.files, run_id=run_id, yes=params.yes, on_event=on_event,
                                  confine=confine)
        for name in self.artifacts:
            source = Path(outcome.folder) / name
            if source.exists():
                shutil.copy2(source, ctx.path(name))
        if outcome.status == "waiting":
            raise WaitingError(f"{outcome.waiting_for}; approve with: animstudio agent resume {run_id} --yes "
                               f"(or --no)")
        self._remember(outcome, ctx)
        if outcome.status == "denied":     # the user stopped it: cancelled, not failed
            raise DeniedError(f"the run stopped: {outcome.message}")
        if outcome.status in ("failed", "stopped"):
            raise StudioError(f"the run {outcome.status}: {outcome.message}")
        return {"status": outcome.status, "message": outcome.message,
                "steps": [{"tool": s.tool, "ok": s.ok} for s in outcome.steps]}

    @staticmethod
    def _remember(outcome: Any, ctx: Context) -> None:
        """Record the finished run into the knowledge base's generations (unless the settings say not);
        a knowledge base that cannot take it costs the run nothing but a logged decision."""
        from animstudio.agent.memory import record_run
        from animstudio.config import load_settings

        if not load_settings().agent.record_runs:
            return
        try:
            record = record_run(outcome)
        except StudioError as exc:
            ctx.emit("decision", f"the run is not recorded: {exc}", {"kind": "decision", "what": "record the run",
                                                                       "chosen": "no", "why": str(exc)})
            return
        ctx.emit("decision", f"recorded as {record} in generations", {
            "kind": "decision", "what": "record the run", "chosen": "generations", "why": f"record {record}"})


@hookimpl
def register_pipelines(register: Any) -> None:
    register(AgentRun)
