"""The analyze pipeline: shots, camera motion, composition, coherence and audio of a clip, as
``analysis.json`` (the parody's first step, on its own); with ``speech``, also who says what in
which shot. The shots (and their lines) are indexed in the knowledge base's ``films`` collection.

    Analyze(clip="a.mp4", speech=True).run("out/")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from animstudio.jobs.runner import Context, StepFn
from animstudio.pipelines.base import Pipeline
from animstudio.pipelines.params import ClipOptions, check_clip, check_output


def step_speech(ctx: Context) -> dict[str, Any]:
    from animstudio.analysis import VideoAnalysis
    from animstudio.analysis.speech import spoken_lines
    from animstudio.files import write_text_atomic
    from animstudio.pipelines.parody import index_film

    path = ctx.path("analysis.json")
    analysis = VideoAnalysis.model_validate_json(path.read_text(encoding="utf-8"))
    analysis.lines = spoken_lines(Path(ctx.params.clip), analysis.shots, on_progress=ctx.on_progress)
    write_text_atomic(path, analysis.model_dump_json(indent=1))
    return {"lines": len(analysis.lines), "speakers": len({line.speaker for line in analysis.lines}),
            "indexed_shots": index_film(ctx, path)}


class Analyze(Pipeline):
    name = "analyze"
    description = ("Analyse a clip: shots, camera motion, composition, coherence and audio (analysis.json); with "
                   "speech, who says what in which shot.")
    artifacts: ClassVar[tuple[str, ...]] = ("analysis.json",)

    class Options(ClipOptions):
        speech: bool = Field(False, description="also transcribe the speech, tell the speakers apart and place each "
                                                "line in its shot")

    def check(self) -> None:
        check_clip(self.options)
        check_output(self.options, self.name)

    def steps(self) -> list[tuple[str, StepFn]]:
        from animstudio.pipelines.parody import step_analyze

        return [("analyze", step_analyze), *([("speech", step_speech)] if self.options.speech else [])]
