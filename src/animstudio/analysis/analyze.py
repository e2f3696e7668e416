"""Full analysis of a video: shots, camera motion, composition, coherence and audio, one schema.

    >>> result = analyze("clip.mp4")
    >>> result.shots[1].start_frame, result.camera[1].label, result.audio.integrated_lufs
"""

from __future__ import annotations

import os
import time
from typing import Any

from pydantic import Field

from animstudio.analysis.audio import AudioAnalysis, analyze_audio
from animstudio.analysis.camera import CameraMotion, camera_motion
from animstudio.analysis.coherence import Coherence, coherence
from animstudio.analysis.composition import Composition, composition
from animstudio.analysis.features import extract_features
from animstudio.analysis.scenes import DEFAULT_DETECTOR, SceneResult, detect_scenes, make_detector
from animstudio.analysis.speech import SpokenLine
from animstudio.media import probe
from animstudio.media.probe import require_video
from animstudio.progress import Progress, ProgressCallback, ignore

SCHEMA_VERSION = 1


class VideoAnalysis(SceneResult):
    """The shots of :class:`SceneResult` (video, detector, cuts, shots, transitions, flashes) and
    what was measured per shot; ``analysis.json`` is this model as JSON."""

    schema_version: int = SCHEMA_VERSION
    camera: list[CameraMotion]
    composition: list[Composition]
    coherence: Coherence
    audio: AudioAnalysis
    # kept in analysis.json (the report plots it), unlike in a SceneResult
    signal: list[float] = Field(default_factory=list, description="per-frame change from the previous frame, 0-1")
    timings_s: dict[str, float] = Field(default_factory=dict)
    lines: list[SpokenLine] = Field(default_factory=list, description="who says what in which shot (analysed "
                                                                      "with speech: --speech)")


ANALYSIS_STEPS = 6   # decode, shots, camera, composition, coherence, audio


def analyze(path: str | os.PathLike[str], detector: str = DEFAULT_DETECTOR, options: dict[str, Any] | None = None,
            on_progress: ProgressCallback = ignore) -> VideoAnalysis:
    """Everything about ``path``; an unknown detector or a bad detector option is refused before decoding."""
    make_detector(detector, options)
    timings: dict[str, float] = {}

    def timed(name: str, fn, *args):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        out = fn(*args)
        timings[name] = round(time.perf_counter() - t0, 3)
        on_progress(Progress("analysis", len(timings), ANALYSIS_STEPS, "steps", name))
        return out

    info = require_video(probe(path))
    features = timed("decode", lambda: extract_features(path, on_progress=on_progress, info=info))
    scenes = timed("shots", lambda: detect_scenes(features=features, detector=detector, options=options))
    camera = timed("camera", camera_motion, features, scenes.shots, scenes.transitions)
    comp = timed("composition", composition, features, scenes.shots)
    coh = timed("coherence", coherence, features, scenes.shots)
    audio = timed("audio", analyze_audio, path)
    return VideoAnalysis(**dict(scenes), camera=camera, composition=comp, coherence=coh, audio=audio,
                         timings_s=timings)
