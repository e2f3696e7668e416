"""The highlights pipeline: a reel of a clip's liveliest moments, as a timeline and a rendered video.

    Highlights(clip="match.mp4", duration_s=20).run("out/")   # or jobs.submit("highlights", {...})
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from animstudio.editing import REEL_S, Preset
from animstudio.editing.style_presets import styles_named
from animstudio.jobs.runner import Context, StepFn
from animstudio.pipelines.base import Pipeline
from animstudio.pipelines.params import ClipOptions, check_clip, check_output, styles_field


def step_highlights(ctx: Context) -> dict[str, Any]:
    from animstudio.editing import build_highlights, export_timeline
    from animstudio.editing import render_video as render

    edit = build_highlights(ctx.params.clip, duration_s=ctx.params.duration_s, on_progress=ctx.on_progress)
    edit.add_styles(ctx.params.styles)
    export_timeline(edit.timeline, ctx.path("highlights.otio"), "otio")
    result = render(edit.timeline, ctx.path("highlights.mp4"), preset=ctx.params.preset,
                    on_progress=ctx.on_progress, cancel=ctx.cancel)
    return {"video": "highlights.mp4", "timeline": "highlights.otio", "duration_s": round(result.duration_s, 3)}


class Highlights(Pipeline):
    name = "highlights"
    description = "A highlight reel of a clip: its liveliest moments, rendered, with the timeline."
    artifacts: ClassVar[tuple[str, ...]] = ("highlights.mp4", "highlights.otio")

    class Options(ClipOptions):
        duration_s: float = Field(REEL_S, ge=1, le=3600, description="length of the reel, seconds")
        preset: Preset = Field("medium", description="encoder speed and quality")
        styles: list[str] = styles_field("style presets to combine (grades, looks, textures, framing)")
        _check_styles = field_validator("styles")(styles_named)

    def check(self) -> None:
        check_clip(self.options)
        check_output(self.options, self.name)

    def steps(self) -> list[tuple[str, StepFn]]:
        return [("highlights", step_highlights)]
