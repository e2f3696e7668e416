"""Render a timeline: checked first, then segment by segment through ffmpeg, mixed, normalised, muxed.

Runs of clips joined by transitions render as their own small filter graphs (memory stays low
whatever the timeline's length); their files join without re-encoding. The audio is mixed in one
graph, measured, and normalised to the loudness target while the final file is muxed. The output
appears only when everything succeeded (a temp file renamed), also on Ctrl-C or a cancel.

    >>> render("cut.otio", "cut.mp4", preset="draft", on_progress=print)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import opentimelineio as otio

from animstudio.editing.plan import Plan, make_plan
from animstudio.errors import InvalidInputError
from animstudio.files import atomic_output, check_output_path
from animstudio.media.ffmpeg import run_ffmpeg
from animstudio.progress import Progress, ProgressCallback, ignore

Preset = Literal["draft", "medium", "high"]
Captions = Literal["both", "burn", "sidecar", "none"]
X264 = {"draft": ("veryfast", 23), "medium": ("medium", 23), "high": ("slow", 18)}
VP9 = {"draft": (8, 36), "medium": (4, 32), "high": (2, 28)}
SEGMENT_S = 12.0   # plain cuts are grouped into segments of about this length


@dataclass
class RenderResult:
    path: Path
    duration_s: float
    frames: int
    segments: int
    sidecars: list[Path]
    loudness: float | None        # integrated LUFS measured before normalisation


def _encoder(suffix: str, preset: Preset, fps: float) -> tuple[list[str], list[str], str]:
    """(video encoder args, audio encoder args, segment suffix) for an output file type."""
    from animstudio.editing.filters import rate

    if suffix == ".webm":
        speed, crf = VP9[preset]
        return (["-c:v", "libvpx-vp9", "-crf", str(crf), "-b:v", "0", "-row-mt", "1", "-deadline", "good",
                 "-cpu-used", str(speed), "-pix_fmt", "yuv420p", "-r", rate(fps)],
                ["-c:a", "libopus", "-b:a", "160k"], ".webm")
    if suffix == ".mp4":
        x264_preset, crf = X264[preset]
        return (["-c:v", "libx264", "-preset", x264_preset, "-crf", str(crf), "-pix_fmt", "yuv420p", "-r", rate(fps)],
                ["-c:a", "aac", "-b:a", "192k"], ".mp4")
    raise InvalidInputError(f"cannot write {suffix or 'files without an extension'}; name the output .mp4 or .webm")


def _timeline(source: str | os.PathLike[str] | otio.schema.Timeline) -> otio.schema.Timeline:
    if isinstance(source, otio.schema.Timeline):
        return source
    from animstudio.editing.timeline import Edit

    return Edit.load(source).timeline


def _grade(plan: Plan) -> list[str]:
    out = plan.output
    if not out.styles and not out.lut:
        return []
    from animstudio.config import load_settings
    from animstudio.editing.styles import style_filters

    cache = load_settings().home / "cache" / "luts"
    return style_filters(out.styles, out.width, out.height, cache, lut=out.lut)


def _cues(plan: Plan, burn: bool = False) -> list:  # type: ignore[type-arg]
    """The captions as cues on frame boundaries; for burning in, each time is also floored to the
    centisecond (ASS's unit), which keeps the first and last frames of every cue exact."""
    import math

    from animstudio.editing.subtitles import Cue

    fps = plan.output.fps

    def t(x: float) -> float:
        snapped = round(x * fps) / fps
        return math.floor(snapped * 100 + 1e-6) / 100 if burn else round(snapped, 3)

    cues = []
    for a, b, c in sorted(plan.captions, key=lambda x: x[0]):
        words = [w.model_copy(update={"start_s": t(w.start_s), "end_s": max(t(w.end_s), t(w.start_s))})
                 for w in c.words]
        cues.append(Cue(t(a), t(b), c.text, words))
    return cues


def render(timeline: str | os.PathLike[str] | otio.schema.Timeline, output: str | os.PathLike[str],
           preset: Preset = "medium", captions: Captions = "both", on_progress: ProgressCallback = ignore,
           cancel: threading.Event | None = None, segment_s: float = SEGMENT_S) -> RenderResult:
    """Render ``timeline`` (an OTIO timeline or a file OTIO reads) to ``output`` (.mp4 or .webm)."""
    out_path = check_output_path(output, "rendered video")
    if preset not in X264:
        raise InvalidInputError(f"unknown preset {preset!r}; use draft, medium or high")
    plan = make_plan(_timeline(timeline))     # every clip, file and range checked before anything renders
    fps = plan.output.fps
    video_enc, audio_enc, seg_suffix = _encoder(out_path.suffix.lower(), preset, fps)
    grade = _grade(plan)
    work = Path(tempfile.mkdtemp(prefix=".render-", dir=out_path.parent))
    try:
        cues = _cues(plan) if captions != "none" else []
        ass = None
        if cues and captions in ("both", "burn"):
            from animstudio.editing.subtitles import write_ass

            ass = write_ass(_cues(plan, burn=True), work / "captions.ass", plan.output.width, plan.output.height,
                            karaoke=any(c.words for c in cues))
        burn = None
        segments = plan.segments(max_frames=round(segment_s * fps))
        total_s = plan.duration_s
        done = 0.0
        parts = []
        from animstudio.editing.graph import segment_args

        for i, pieces in enumerate(segments):
            seg_file = work / f"segment-{i:04d}{seg_suffix}"
            seg_s = sum(p.out_frames for p in pieces) / fps
            if ass is not None:
                from animstudio.editing.subtitles import burn_filter

                burn = burn_filter(ass, offset_s=pieces[0].out_start / fps)
            args = segment_args(plan, pieces, work, seg_file, video_enc, grade, burn)
            base = done

            def seg_progress(e: Progress, base: float = base) -> None:
                on_progress(Progress("render video", min(total_s, base + e.done), total_s, "s"))

            run_ffmpeg(args, duration_s=seg_s, on_progress=seg_progress, cancel=cancel,
                       task=f"render segment {i + 1}/{len(segments)}")
            parts.append(seg_file)
            done += seg_s
        mix = work / "mix.wav"
        from animstudio.editing.mix import loudnorm_filter, measure_loudness, mix_args

        run_ffmpeg(mix_args(plan, mix), duration_s=total_s, cancel=cancel, task="mix audio",
                   on_progress=lambda e: on_progress(Progress("mix audio", e.done, total_s, "s")))
        loudness = None
        audio_filter = []
        if plan.output.loudness is not None:
            measured = measure_loudness(mix)
            loudness = measured["input_i"]
            audio_filter = ["-af", loudnorm_filter(plan.output.loudness, measured, plan.output.sample_rate)]
        listing = work / "segments.txt"
        listing.write_text("".join(f"file '{p.name}'\n" for p in parts), encoding="utf-8")
        with atomic_output(out_path, "rendered video") as tmp:
            mux = ["-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(mix), "-map", "0:v:0", "-map", "1:a:0",
                   "-c:v", "copy", *audio_filter, *audio_enc, "-ar", str(plan.output.sample_rate),
                   "-t", f"{total_s:.6f}"]
            if seg_suffix == ".mp4":
                mux += ["-movflags", "+faststart"]
            run_ffmpeg([*mux, "-f", "mp4" if seg_suffix == ".mp4" else "webm", str(tmp)], duration_s=total_s,
                       cancel=cancel, task="mux",
                       on_progress=lambda e: on_progress(Progress("mux", e.done, total_s, "s")))
        sidecars = []
        if cues and captions in ("both", "sidecar"):  # written once the video is there
            from animstudio.editing.subtitles import write_srt

            sidecars.append(write_srt(cues, out_path.with_suffix(".srt")))
        return RenderResult(out_path, total_s, plan.frames, len(segments), sidecars, loudness)
    finally:
        shutil.rmtree(work, ignore_errors=True)
