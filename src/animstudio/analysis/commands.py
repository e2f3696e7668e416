"""What each analysis command does, as one request model and one function: the ``analyze`` CLI
takes its flags from the model, and the tools (``analyze.scenes`` ...) take their arguments from it.

    find_scenes(ScenesRequest(file="clip.mp4", options={"cut_blocks": 0.6}))   # a SceneResult
    make_report(ReportRequest(file="clip.mp4", output="out/clip"))            # a ReportResult
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from animstudio.analysis.analyze import VideoAnalysis, analyze
from animstudio.analysis.audio import AudioAnalysis
from animstudio.analysis.camera import CameraMotion
from animstudio.analysis.scenes import DEFAULT_DETECTOR, SceneResult, Shot, detect_scenes
from animstudio.media import MediaInfo
from animstudio.progress import ProgressCallback, ignore


class VideoRequest(BaseModel):
    """A video to analyse."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    file: str = Field(description="a video file")


class DetectRequest(VideoRequest):
    """A video and the shot detector to find its shots with."""

    detector: str = Field(DEFAULT_DETECTOR, description="shot detector (see `animstudio analyze detectors`)")
    options: dict[str, Any] = Field(default_factory=dict,
                                    description="the detector's options by name, e.g. {\"cut_blocks\": 0.6} "
                                                "(see `animstudio analyze detectors`)")


class ScenesRequest(DetectRequest):
    fast: bool = Field(False, description="decode without the deblocking filter: much faster; "
                                          "fade and dissolve spans may move by a frame")


class AudioRequest(VideoRequest):
    file: str = Field(description="a video or audio file")


class ReportRequest(DetectRequest):
    output: str = Field(description="folder for analysis.json, timeline.otio, contact_sheet.png and report.html")
    speech: bool = Field(False, description="also transcribe the speech, tell the speakers apart and place each "
                                            "line in its shot (Whisper and the voice encoder)")


class CameraResult(BaseModel):
    video: MediaInfo
    shots: list[Shot]
    camera: list[CameraMotion] = Field(description="the camera motion of each shot, in shot order")


class ReportResult(BaseModel):
    folder: str = Field(description="the report folder")
    files: list[str] = Field(description="the files written: analysis.json, timeline.otio, contact_sheet.png, "
                                         "report.html")
    shots: int = Field(description="how many shots were found")
    cuts: list[int] = Field(description="hard cuts: frame n starts a new shot")
    duration_s: float = Field(description="the video's length in seconds")


def find_scenes(request: ScenesRequest, on_progress: ProgressCallback = ignore) -> SceneResult:
    """Shots, cuts, flashes and transitions (a bad detector name or option fails before decoding)."""
    return detect_scenes(request.file, detector=request.detector, options=request.options, on_progress=on_progress,
                         fast_decode=request.fast)


def find_camera(request: VideoRequest, on_progress: ProgressCallback = ignore) -> CameraResult:
    """The shots (default detector) and the camera motion of each."""
    from animstudio.analysis.camera import camera_motion
    from animstudio.analysis.features import extract_features

    features = extract_features(request.file, on_progress=on_progress)
    scenes = detect_scenes(features=features)
    return CameraResult(video=features.info, shots=scenes.shots,
                        camera=camera_motion(features, scenes.shots, scenes.transitions))


def measure_audio(request: AudioRequest, on_progress: ProgressCallback = ignore) -> AudioAnalysis:
    """Loudness, speech and silences of the file's first audio stream (refused when it has none)."""
    from animstudio.analysis.audio import analyze_audio
    from animstudio.media import probe
    from animstudio.media.probe import require_audio

    require_audio(probe(request.file, count_frames=False))
    return analyze_audio(request.file, on_progress=on_progress)


def analyze_video(request: DetectRequest, on_progress: ProgressCallback = ignore) -> VideoAnalysis:
    """Everything: shots, camera, composition, coherence and audio."""
    return analyze(request.file, detector=request.detector, options=request.options, on_progress=on_progress)


def make_report(request: ReportRequest, on_progress: ProgressCallback = ignore) -> ReportResult:
    """Analyse the video and write the report folder; the bad video is named before the output folder
    is looked at (a file cut short is refused by the decoder, before anything is written)."""
    from animstudio.analysis.report import COMMAND, write_report
    from animstudio.files import check_output_folder
    from animstudio.media import probe, require_video

    require_video(probe(request.file, count_frames=False))
    check_output_folder(request.output, COMMAND)
    result = analyze_video(request, on_progress)
    if request.speech:
        from animstudio.analysis.speech import spoken_lines

        result.lines = spoken_lines(request.file, result.shots, on_progress=on_progress)
    paths = write_report(result, request.output)
    return ReportResult(folder=str(paths["analysis.json"].parent), files=[str(p) for p in paths.values()],
                        shots=len(result.shots), cuts=result.cuts, duration_s=result.video.duration_s)
