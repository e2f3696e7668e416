"""One registered tool called as a durable job (the ``tool`` kind): what the web UI's pages for
voices, the knowledge base and images run, so each call is listed with the other jobs, has its
events and keeps what it wrote in its folder.

    job = jobs.submit("tool", {"tool": "voice.say", "args": {"text": "Hi", "output": "hi.wav"}})
    jobs.run(job.id)         # the job's folder holds hi.wav and result.json (the tool's result)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from animstudio.backend import Backend
from animstudio.jobs.runner import Context, StepFn
from animstudio.pipelines.base import Pipeline

RESULT = "result.json"


class ToolCall(Pipeline):
    name = "tool"
    description = "One registered tool (animstudio tools list) called with its arguments."
    artifacts: ClassVar[tuple[str, ...]] = (RESULT,)

    class Options(Backend.Options):
        tool: str = Field(min_length=1, description="the tool's name, e.g. voice.say (animstudio tools list)")
        args: dict[str, Any] = Field(default_factory=dict, description="the tool's arguments (its schema: "
                                                                       "animstudio tools show NAME)")
        confined_to: list[Path] | None = Field(None, description="read files only from these folders; relative "
                                                                 "outputs go into the job's folder (the API's calls)")

    def check(self) -> None:
        from animstudio.tools import get_tool

        get_tool(self.options.tool).check(self.options.args)

    def steps(self) -> list[tuple[str, StepFn]]:
        return [("call", self._call)]

    def _call(self, ctx: Context) -> dict[str, Any]:
        from animstudio.files import write_text_atomic
        from animstudio.tools import get_tool

        tool = get_tool(self.options.tool)
        args = dict(self.options.args)
        if self.options.confined_to is not None:
            from animstudio.confinement import confined

            args = confined(args, ctx.folder, list(self.options.confined_to), schema=tool.schema())
        ctx.progress(0.0, f"{tool.name} started")
        result = tool.run(tool.check(args)).model_dump(mode="json")
        write_text_atomic(ctx.path(RESULT), json.dumps(result, indent=1, ensure_ascii=False))
        ctx.progress(1.0, f"{tool.name} done")
        return {"result": result}
