"""Editing: timelines (OpenTimelineIO) built, checked, rendered through ffmpeg and exported for NLEs.

This is the package's public API (other capabilities, pipelines and the faces import from here);
each name loads its module on first use, so importing the package costs nothing.

    from animstudio.editing import Edit, Output, export_timeline, render_video
    edit = Edit(Output(width=1280, height=720, fps=24))
    edit.cut("clip.mp4", 2.0, 5.5); edit.cut("clip.mp4", 9.0, 12.0); edit.add_transition(1, "fade", 0.5)
    render_video(edit.timeline, "cut.mp4", preset="draft").frames     # 156
    export_timeline(edit.timeline, "cut.edl")

    from animstudio.editing import RenderRequest, render_timeline       # what `animstudio edit render` runs
    render_timeline(RenderRequest(timeline="cut.otio", output="cut.mp4", styles=["noir"]))

The function ``render`` is exported as ``render_video``: the name ``render`` is its module's (once a
module is imported, Python binds the package attribute of its name to the module).
"""

from __future__ import annotations

from animstudio.lazy import lazy_exports

_LAZY: dict[str, tuple[str, str]] = {
    # a timeline and what its metadata holds
    **{name: ("timeline", name) for name in ("Edit", "media_path", "media_url")},
    **{name: ("schema", name) for name in ("META", "MAIN", "OVERLAY", "CAPTIONS", "CAPTION_SIZE", "Output",
                                           "ClipEffects", "Zoom", "KenBurns", "Rect", "TextStyle", "ImageOverlay",
                                           "AudioTrack", "OriginalAudio", "Caption", "Word")},
    "check_transition": ("transitions", "check_transition"), "TRANSITIONS": ("transitions", "KINDS"),
    # checking, rendering, exporting
    "check_times": ("times", "check_times"), "make_plan": ("render_plan", "make_plan"),
    "Plan": ("render_plan", "Plan"), "render_video": ("render", "render"), "RenderResult": ("render", "RenderResult"),
    "export_timeline": ("export", "export_timeline"),
    **{name: ("formats", name) for name in ("Preset", "Captions", "ExportFormat", "RENDER_PRESETS", "EXPORT_FORMATS",
                                            "format_of", "check_video_name")},
    # looks
    **{name: ("style_presets", name) for name in ("STYLES", "normalise_styles", "style_filters")},
    **{name: ("luts", name) for name in ("GRADES", "write_lut", "check_lut")},
    # highlight reels, comic beats, fitting text to its time and room
    "build_highlights": ("highlights", "build_highlights"), "REEL_S": ("formats", "REEL_S"),
    **{name: ("beats", name) for name in ("BEATS", "Beat", "add_shot", "hold_last_frame")},
    **{name: ("text_fit", name) for name in ("CHARS_PER_SECOND", "TITLE_SIZE", "fits_time", "chars_for_time",
                                             "fits_width", "chars_for_width", "text_width", "cut_to")},
    # the commands, their requests and results (the CLI and the tools call these)
    **{name: ("commands", name) for name in ("RenderRequest", "ExportRequest", "HighlightsRequest", "Rendered",
                                             "Exported", "Reel", "render_timeline", "export_edit", "highlight_reel")},
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _LAZY)
