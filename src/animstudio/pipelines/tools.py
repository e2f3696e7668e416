"""The pipelines as tools: ``parody`` and ``narrate`` run as durable jobs and return what they made.

    get_tool("narrate")(clip="a.mp4", output="out/a")     # JobResult(job=..., status="done", files=[...])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from animstudio.hookspecs import hookimpl
from animstudio.pipelines.parody import Narrate, Parody
from animstudio.tools import tool


class JobResult(BaseModel):
    job: str = Field(description="the job's id (animstudio jobs show ID)")
    status: str = Field(description="done, failed or cancelled")
    folder: str = Field(description="the job's working folder")
    output: str | None = Field(None, description="the folder the results were delivered to")
    files: list[str] = Field(default_factory=list, description="the files delivered (or in the job folder)")
    outputs: dict[str, dict[str, Any]] = Field(default_factory=dict, description="each step's outputs")


def run_as_job(kind: str, params: BaseModel) -> JobResult:
    """Submit a job of ``kind``, run it here, and describe what it made."""
    from animstudio.errors import StudioError
    from animstudio.jobs import run, submit
    from animstudio.plugins import get_backend

    job = run(submit(kind, params.model_dump()).id)
    if job.status != "done":
        raise StudioError(f"job {job.id} {job.status}: {job.error or 'see animstudio jobs show ' + job.id}")
    where = job.params.get("output") or str(job.folder)
    artifacts = get_backend("pipeline", kind).artifacts   # declared by the class: no parameters to check again
    return JobResult(job=job.id, status=job.status, folder=str(job.folder), output=job.params.get("output"),
                     files=[str(Path(where) / name) for name in artifacts if (Path(where) / name).exists()],
                     outputs={s.name: {k: v for k, v in s.outputs.items() if k != "decisions"} for s in job.steps})


@tool("parody", example={"clip": "clip.mp4", "output": "out/parody", "brief": "sports commentary"},
      plan=("brief", "characters", "output", "look"))
def parody(params: Parody.Options) -> JobResult:
    """Re-dub a clip as a parody: the LLM writes lines for each shot in the style of the brief, the
    lines are voiced and checked by ear, comic beats and captions are cut in, and the result is
    rendered with an SRT, an OTIO timeline and a report."""
    return run_as_job("parody", params)


@tool("narrate", example={"clip": "clip.mp4", "output": "out/narration"}, plan=("output", "look"))
def narrate(params: Narrate.Options) -> JobResult:
    """A documentary-style voice-over of a clip: a narrator's lines per shot, voiced and mixed over the
    ducked original, rendered with an SRT, an OTIO timeline and a report."""
    return run_as_job("narrate", params)


@hookimpl
def register_tools(register: Any) -> None:
    register(parody)
    register(narrate)
