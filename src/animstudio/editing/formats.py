"""The files editing writes, each listed once: videos at an encoder preset, captions beside or burnt
in, and timelines in an export format. Light to import (no OpenTimelineIO, no numpy): the command
line and the tools take their choices from here.

    >>> encoder_args(".mp4", "draft", 24.0)[0][:4]     # ['-c:v', 'libx264', '-preset', 'veryfast']
    >>> check_video_name("reel.avi")                    # InvalidInputError: ... name the output .mp4 or .webm
    >>> format_of("cut.edl")                            # 'edl'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from animstudio.errors import InvalidInputError

Preset = Literal["draft", "medium", "high"]
Captions = Literal["both", "burn", "sidecar", "none"]
ExportFormat = Literal["otio", "edl", "fcp7xml"]
REEL_S = 15.0   # a highlight reel's length when none is asked for


@dataclass(frozen=True)
class Encoding:
    """The encoder settings of a render preset: x264 for .mp4, libvpx-vp9 for .webm."""

    x264_preset: str
    x264_crf: int
    vp9_speed: int   # -cpu-used: higher is faster
    vp9_crf: int


RENDER_PRESETS: dict[str, Encoding] = {
    "draft": Encoding("veryfast", 23, 8, 36),
    "medium": Encoding("medium", 23, 4, 32),
    "high": Encoding("slow", 18, 2, 28),
}
PRESET_HELP = "encoder speed and quality: " + ", ".join(
    f"{name} (x264 {e.x264_preset}, CRF {e.x264_crf})" for name, e in RENDER_PRESETS.items())
CAPTIONS_HELP = "captions: both (burn in and write an .srt beside), burn, sidecar (the .srt only) or none"
VIDEO_SUFFIXES = (".mp4", ".webm")
# format -> (OTIO adapter, file suffix); EDL and FCP 7 XML come from the adapter plugins on PyPI
EXPORT_FORMATS: dict[str, tuple[str, str]] = {"otio": ("otio_json", ".otio"), "edl": ("cmx_3600", ".edl"),
                                              "fcp7xml": ("fcp_xml", ".xml")}
if set(RENDER_PRESETS) != set(get_args(Preset)) or set(EXPORT_FORMATS) != set(get_args(ExportFormat)):
    raise AssertionError("the render presets and export formats must match their Literal types")


def check_preset(preset: str) -> str:
    if preset not in RENDER_PRESETS:
        raise InvalidInputError(f"unknown preset {preset!r}; use {', '.join(RENDER_PRESETS)}")
    return preset


def check_video_name(path: str | os.PathLike[str]) -> str:
    """The suffix of a video to write (``.mp4`` or ``.webm``), or a one-line InvalidInputError."""
    suffix = Path(path).suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise InvalidInputError(f"cannot write {suffix or 'files without an extension'}; name the output "
                                f"{' or '.join(VIDEO_SUFFIXES)}")
    return suffix


def encoder_args(suffix: str, preset: str, fps: float) -> tuple[list[str], list[str], str]:
    """(video encoder args, audio encoder args, segment suffix) for a video of type ``suffix``."""
    from animstudio.editing.filters import rate

    enc = RENDER_PRESETS[check_preset(preset)]
    if check_video_name(f"video{suffix}") == ".webm":
        return (["-c:v", "libvpx-vp9", "-crf", str(enc.vp9_crf), "-b:v", "0", "-row-mt", "1", "-deadline", "good",
                 "-cpu-used", str(enc.vp9_speed), "-pix_fmt", "yuv420p", "-r", rate(fps)],
                ["-c:a", "libopus", "-b:a", "160k"], ".webm")
    return (["-c:v", "libx264", "-preset", enc.x264_preset, "-crf", str(enc.x264_crf), "-pix_fmt", "yuv420p",
             "-r", rate(fps)], ["-c:a", "aac", "-b:a", "192k"], ".mp4")


def format_of(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The export format of ``path``: ``fmt``, or from the suffix when None; refused when they disagree."""
    suffixes = [ext for _, ext in EXPORT_FORMATS.values()]
    names = f"{', '.join(suffixes[:-1])} or {suffixes[-1]}"
    choices = "|".join(EXPORT_FORMATS)
    named = next((k for k, (_, ext) in EXPORT_FORMATS.items() if ext == Path(path).suffix.lower()), None)
    if fmt is None:
        if named is None:
            raise InvalidInputError(f"cannot tell the format of {Path(path).name}; name it {names}, or pass "
                                    f"--format {choices}")
        return named
    if fmt not in EXPORT_FORMATS:
        raise InvalidInputError(f"unknown export format {fmt!r}; use {', '.join(EXPORT_FORMATS)}")
    if named is not None and named != fmt:
        raise InvalidInputError(f"{Path(path).name} is named like {named} but the format asked for is {fmt}; name "
                                f"it {EXPORT_FORMATS[fmt][1]}, or pass --format {named}")
    return fmt
