"""The analysis tools (registered through ``register_tools``): the ``analyze`` commands as typed tools.

    get_tool("analyze.scenes")(file="clip.mp4", detector="animation")   # a SceneResult
    get_tool("analyze.report")(file="clip.mp4", output="out/clip")      # a ReportResult: the files written
"""

from __future__ import annotations

from typing import Any

from animstudio.analysis.audio import AudioAnalysis
from animstudio.analysis.commands import (
    AudioRequest,
    CameraResult,
    ReportRequest,
    ReportResult,
    ScenesRequest,
    VideoRequest,
    find_camera,
    find_scenes,
    make_report,
    measure_audio,
)
from animstudio.analysis.scenes import SceneResult
from animstudio.hookspecs import hookimpl
from animstudio.tools import tool


@tool("analyze.scenes", example={"file": "clip.mp4", "detector": "animation", "options": {"cut_blocks": 0.5}}, plan=())
def scenes(request: ScenesRequest) -> SceneResult:
    """Find the shots of a video: hard cuts, flashes (not cuts), fades and dissolves with their frame
    spans (frame n of a cut starts the new shot), with a registered shot detector and its options."""
    return find_scenes(request)


@tool("analyze.camera", example={"file": "clip.mp4"}, plan=())
def camera(request: VideoRequest) -> CameraResult:
    """Camera motion per shot of a video: pan, tilt, zoom, roll, shake or static, with rates per second."""
    return find_camera(request)


@tool("analyze.audio", example={"file": "clip.mp4"}, plan=())
def audio(request: AudioRequest) -> AudioAnalysis:
    """Integrated loudness (EBU R128), speech segments and silences of a video's or audio file's sound."""
    return measure_audio(request)


@tool("analyze.report", example={"file": "clip.mp4", "output": "out/clip-report"}, plan=())
def report(request: ReportRequest) -> ReportResult:
    """A full analysis report of a video, contact sheet of its shots included: shots, camera,
    composition, coherence and audio, written to a new folder as analysis.json, timeline.otio (shots
    as clips, transitions and camera moves as markers), contact_sheet.png and a self-contained
    report.html."""
    return make_report(request)


@hookimpl
def register_tools(register: Any) -> None:
    """Register this capability's tools."""
    for found in (scenes, camera, audio, report):
        register(found)
