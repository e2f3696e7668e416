"""The render pipeline: a timeline (OTIO) rendered to a video as a durable job.

    Render(clip="cut.otio", preset="draft").run("out/")   # ``clip`` is the timeline
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from animstudio.editing import Preset
from animstudio.editing.style_presets import styles_named
from animstudio.files import suffixes
from animstudio.jobs.runner import Context, StepFn
from animstudio.pipelines.base import Pipeline
from animstudio.pipelines.params import ClipOptions, check_clip, check_output, styles_field


def step_render(ctx: Context) -> dict[str, Any]:
    from animstudio.editing import Edit
    from animstudio.editing import render_video as render

    timeline: Any = ctx.params.clip
    if ctx.params.styles:   # on top of the timeline's own; the file is not changed
        edit = Edit.load(timeline)
        edit.add_styles(ctx.params.styles)
        timeline = edit.timeline
    result = render(timeline, ctx.path("render.mp4"), preset=ctx.params.preset,
                    on_progress=ctx.on_progress, cancel=ctx.cancel)
    return {"video": "render.mp4", "duration_s": round(result.duration_s, 3)}


class Render(Pipeline):
    name = "render"
    description = "Render a timeline (OTIO) to a video."
    artifacts: ClassVar[tuple[str, ...]] = ("render.mp4",)

    class Options(ClipOptions):
        clip: str = Field(min_length=1, description="the timeline to render (.otio)",
                          json_schema_extra=suffixes(".otio"))
        preset: Preset = Field("medium", description="encoder speed and quality")
        styles: list[str] = styles_field("style presets to combine, on top of the timeline's own")
        _check_styles = field_validator("styles")(styles_named)

    def check(self) -> None:
        check_clip(self.options, video=False)
        check_output(self.options, self.name)

    def steps(self) -> list[tuple[str, StepFn]]:
        return [("render", step_render)]
