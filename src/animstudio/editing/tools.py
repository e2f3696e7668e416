"""The editing tools (registered through ``register_tools``): each takes one request model of
:mod:`animstudio.editing.commands`, the same one the ``animstudio edit`` command's flags come from.

    get_tool("edit.render")(timeline="cut.otio", output="cut.mp4", preset="draft")   # Rendered(frames=70, ...)
    animstudio tools call edit.export --args '{"timeline": "cut.otio", "output": "cut.edl"}'
"""

from __future__ import annotations

from typing import Any

from animstudio.editing.commands import (
    Exported,
    ExportRequest,
    HighlightsRequest,
    Reel,
    Rendered,
    RenderRequest,
    export_edit,
    highlight_reel,
    render_timeline,
)
from animstudio.hookspecs import hookimpl
from animstudio.tools import tool


@tool("edit.render", example={"timeline": "cut.otio", "output": "cut.mp4", "preset": "draft",
                              "styles": ["warm"], "captions": "both"},
      plan=("styles", "preset", "captions", "subtitles", "aspect"))
def render(request: RenderRequest) -> Rendered:
    """Render a timeline (.otio, .edl or FCP 7 .xml) to an .mp4 or .webm video through ffmpeg, with style
    presets, a reframe to another aspect and subtitles added on top; captions are burnt in and/or
    written beside as an .srt. Returns the files written, the length and the frame count."""
    return render_timeline(request)


@tool("edit.export", example={"timeline": "cut.otio", "output": "cut.edl", "format": "edl"}, plan=("format",))
def export(request: ExportRequest) -> Exported:
    """Write a timeline for another editor: Final Cut Pro 7 XML (fcp7xml: every track; Premiere and
    Resolve import it), CMX 3600 EDL (edl: the main cut; Resolve, Avid) or OpenTimelineIO (otio:
    Kdenlive, Resolve); the format comes from the file name unless given."""
    return export_edit(request)


@tool("edit.highlights", example={"clip": "episode.mp4", "output": "reel.mp4", "duration_s": 15,
                                  "transition": "fade", "preset": "draft"},
      plan=("duration_s", "styles", "music", "transition"))
def highlights(request: HighlightsRequest) -> Reel:
    """Cut a highlight reel from a clip: its liveliest and loudest moments in story order, joined by
    transitions, with an optional music bed ducked under the clip's sound; renders the video and writes
    its .otio timeline beside it."""
    return highlight_reel(request)


@hookimpl
def register_tools(register: Any) -> None:
    """Register this capability's tools."""
    register(render)
    register(export)
    register(highlights)
