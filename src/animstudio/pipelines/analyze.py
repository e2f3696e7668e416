"""The analyze pipeline: shots, camera motion, composition, coherence and audio of a clip, as
``analysis.json`` (the parody's first step, on its own).

    Analyze(clip="a.mp4").run("out/")
"""

from __future__ import annotations

from typing import ClassVar

from animstudio.jobs.runner import StepFn
from animstudio.pipelines.base import Pipeline
from animstudio.pipelines.params import ClipOptions, check_clip, check_output


class Analyze(Pipeline):
    name = "analyze"
    description = "Analyse a clip: shots, camera motion, composition, coherence and audio (analysis.json)."
    artifacts: ClassVar[tuple[str, ...]] = ("analysis.json",)

    class Options(ClipOptions):
        pass

    def check(self) -> None:
        check_clip(self.options)
        check_output(self.options, self.name)

    def steps(self) -> list[tuple[str, StepFn]]:
        from animstudio.pipelines.parody import step_analyze

        return [("analyze", step_analyze)]
