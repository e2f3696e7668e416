"""Jobs of one step, for the API and scripts: a highlight reel of a clip, and rendering a timeline.

    submit("highlights", {"clip": "match.mp4", "duration_s": 20})
    submit("render", {"clip": "cut.otio", "preset": "draft"})      # ``clip`` is the timeline here
"""

from __future__ import annotations

from typing import Any

from animstudio.studio.runner import Context, Pipeline


def step_highlights(ctx: Context) -> dict[str, Any]:
    from animstudio.editing.export import export_timeline
    from animstudio.editing.highlights import build_highlights
    from animstudio.editing.render import render

    edit = build_highlights(ctx.params["clip"], duration_s=float(ctx.params.get("duration_s", 15.0)),
                            on_progress=ctx.on_progress)
    export_timeline(edit.timeline, ctx.path("highlights.otio"), "otio")
    result = render(edit.timeline, ctx.path("highlights.mp4"), preset=ctx.params.get("preset", "medium"),
                    on_progress=ctx.on_progress, cancel=ctx.cancel)
    return {"video": "highlights.mp4", "timeline": "highlights.otio", "duration_s": round(result.duration_s, 3)}


def step_render(ctx: Context) -> dict[str, Any]:
    from animstudio.editing.render import render

    name = "render.mp4"
    result = render(ctx.params["clip"], ctx.path(name), preset=ctx.params.get("preset", "medium"),
                    on_progress=ctx.on_progress, cancel=ctx.cancel)
    return {"video": name, "duration_s": round(result.duration_s, 3)}


PIPELINES: dict[str, Pipeline] = {"highlights": [("highlights", step_highlights)], "render": [("render", step_render)]}
