"""What each ``edit`` command does, as one request model and one function: ``animstudio edit
render|export|highlights`` take their flags from the model, and the tools (``edit.render`` ...) take
their arguments from it. The functions check their arguments before any slow work, return a typed
result (the files written and their figures) and never print.

    render_timeline(RenderRequest(timeline="cut.otio", output="cut.mp4", preset="draft")).frames   # 70
    export_edit(ExportRequest(timeline="cut.otio", output="cut.edl")).clips                        # 2
    highlight_reel(HighlightsRequest(clip="episode.mp4", output="reel.mp4", duration_s=15)).timeline

This module is light to import (pydantic only): the command line builds its flags from it at start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from animstudio.editing.formats import (
    CAPTIONS_HELP,
    PRESET_HELP,
    REEL_S,
    Captions,
    ExportFormat,
    Preset,
    check_video_name,
)
from animstudio.editing.schema import CAPTION_SIZE
from animstudio.editing.style_presets import styles_named
from animstudio.errors import InvalidInputError
from animstudio.files import suffixes
from animstudio.progress import ProgressCallback, ignore

if TYPE_CHECKING:
    from animstudio.editing.render import RenderResult

STYLES_HELP = "style presets to combine (repeat; see `animstudio edit styles`)"


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class TimelineRequest(Request):
    timeline: str = Field(min_length=1, description="a timeline: .otio, .edl or FCP 7 .xml",
                          json_schema_extra=suffixes(".otio", ".edl", ".xml"))


class RenderRequest(TimelineRequest):
    output: str = Field(min_length=1, description="the video to write: .mp4 or .webm",
                        json_schema_extra=suffixes(".mp4", ".webm"))
    preset: Preset = Field("medium", description=PRESET_HELP)
    styles: list[str] = Field(default_factory=list, description=f"{STYLES_HELP}, on top of the timeline's own")
    captions: Captions = Field("both", description=CAPTIONS_HELP)
    caption_size: float = Field(CAPTION_SIZE, gt=0, le=0.5,
                                description="the height of a burnt-in caption line, a fraction of the picture's")
    subtitles: str | None = Field(None, description="an .srt, .vtt or .ass file to burn in and write beside")
    aspect: str | None = Field(None, description="reframe by cropping to WIDTH:HEIGHT in whole numbers, e.g. 9:16, "
                                                 "1:1, 4:5, 16:9 or 4:3")
    follow: str | None = Field(None, description="an analysis.json: the crop of aspect keeps each shot's subject")
    executor: str | None = Field(None, description="where the video's segments render: local (this machine's "
                                                   "cores) or ray (a cluster's workers, the media on storage "
                                                   "they share); default the executor setting")

    _check_styles = field_validator("styles")(styles_named)

    @model_validator(mode="after")
    def _follow_needs_aspect(self) -> RenderRequest:
        if self.follow is not None and self.aspect is None:
            raise ValueError("follow crops to an aspect: give one too (e.g. --aspect 9:16)")
        return self


class ExportRequest(TimelineRequest):
    output: str = Field(min_length=1, description="the file to write",
                        json_schema_extra=suffixes(".otio", ".edl", ".xml"))
    format: ExportFormat | None = Field(None, description="the format: otio, edl (CMX 3600) or fcp7xml (Final "
                                                          "Cut Pro 7 XML); default: from the output's name")


class HighlightsRequest(Request):
    clip: str = Field(min_length=1, description="a video with sound")
    output: str = Field(min_length=1, description="the reel: .mp4 or .webm (its .otio timeline is written beside)",
                        json_schema_extra=suffixes(".mp4", ".webm"))
    duration_s: float = Field(REEL_S, ge=1, le=3600, description="length of the reel, seconds")
    music: str | None = Field(None, description="a music bed, looped and ducked under the clip's sound")
    transition: str = Field("fade", description="how the moments join: fade, dip_black, wipeleft, ... (any ffmpeg "
                                                "xfade type) or cut")
    preset: Preset = Field("medium", description=PRESET_HELP)
    styles: list[str] = Field(default_factory=list, description=STYLES_HELP)

    _check_styles = field_validator("styles")(styles_named)

    @field_validator("transition")
    @classmethod
    def _transition(cls, kind: str) -> str:
        from animstudio.editing.transitions import check_transition

        try:
            return kind if kind == "cut" else check_transition(kind)
        except InvalidInputError as exc:
            raise ValueError(str(exc)) from None


class Rendered(BaseModel):
    output: str = Field(description="the video written")
    duration_s: float = Field(description="its length in seconds")
    frames: int = Field(description="its number of frames")
    segments: int = Field(description="how many segments rendered side by side")
    sidecars: list[str] = Field(default_factory=list, description="files written beside it (the .srt of the captions)")
    loudness_before: float | None = Field(None, description="integrated loudness of the mix before it was "
                                                            "normalised, LUFS")

    @classmethod
    def of(cls, result: RenderResult, **more: Any) -> Self:
        """The figures of a finished render (and ``more`` fields of a subclass)."""
        return cls(output=str(result.path), duration_s=result.duration_s, frames=result.frames,
                   segments=result.segments, sidecars=[str(p) for p in result.sidecars],
                   loudness_before=result.loudness, **more)


class Exported(BaseModel):
    output: str = Field(description="the file written")
    format: ExportFormat = Field(description="its format")
    clips: int = Field(description="clips on the main video track")
    duration_s: float = Field(description="the timeline's length in seconds")


class Reel(Rendered):
    timeline: str = Field(description="the reel's timeline (.otio), to finish in an editor")
    clips: int = Field(description="how many moments the reel holds")


def render_timeline(request: RenderRequest, on_progress: ProgressCallback = ignore) -> Rendered:
    """Render a timeline with styles, a reframe and subtitles added on top (the file is not changed)."""
    from animstudio.editing.render import render
    from animstudio.editing.timeline import Edit

    check_video_name(request.output)
    edit = Edit.load(request.timeline)
    edit.add_styles(request.styles)
    if request.aspect:
        edit.reframe(request.aspect, follow=request.follow)
    if request.subtitles is not None:
        edit.add_subtitles(request.subtitles)
    result = render(edit.timeline, request.output, preset=request.preset, captions=request.captions,
                    caption_size=request.caption_size, on_progress=on_progress, executor=request.executor)
    return Rendered.of(result)


def export_edit(request: ExportRequest) -> Exported:
    """Write a timeline for Resolve, Premiere or Kdenlive: OTIO, CMX 3600 EDL or Final Cut Pro 7 XML."""
    from animstudio.editing.export import export_timeline
    from animstudio.editing.formats import format_of
    from animstudio.editing.timeline import Edit

    fmt = format_of(request.output, request.format)
    edit = Edit.load(request.timeline)
    path = export_timeline(edit.timeline, request.output, fmt)
    return Exported(output=str(path), format=fmt, clips=len(edit.clips), duration_s=edit.duration_s)


def highlight_reel(request: HighlightsRequest, on_progress: ProgressCallback = ignore) -> Reel:
    """A highlight reel of a clip, rendered, with its timeline written beside (options checked before
    the clip is analysed)."""
    from animstudio.editing.export import export_timeline
    from animstudio.editing.highlights import build_highlights
    from animstudio.editing.render import render

    check_video_name(request.output)
    if request.music is not None:
        from animstudio.media import probe
        from animstudio.media.probe import require_audio

        require_audio(probe(request.music, count_frames=False))
    edit = build_highlights(request.clip, duration_s=request.duration_s, music=request.music,
                            transition=request.transition, on_progress=on_progress)
    if request.styles:
        edit.set_output(styles=request.styles)
    result = render(edit.timeline, request.output, preset=request.preset, captions="both", on_progress=on_progress)
    timeline = export_timeline(edit.timeline, Path(request.output).with_suffix(".otio"), "otio")
    return Reel.of(result, timeline=str(timeline), clips=len(edit.clips))
