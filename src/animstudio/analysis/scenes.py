"""Shots: run a registered detector on the shared features and turn its cuts into a shot list.

    >>> result = detect_scenes("clip.mp4")                  # the `animation` detector
    >>> result.cuts, [s.start_frame for s in result.shots]
    >>> detect_scenes("clip.mp4", detector="adaptive")      # PySceneDetect's default, for comparison

Frame numbers are 0-based decoded frames (on VFR video too); a cut at n means frame n starts the
new shot; times come from the frames' timestamps.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from animstudio.analysis.detector import SceneDetector, Transition
from animstudio.analysis.features import Features, extract_features
from animstudio.analysis.signals import block_change, hist_distance
from animstudio.errors import InvalidInputError
from animstudio.media import MediaInfo
from animstudio.plugins import get_backend
from animstudio.progress import ProgressCallback, ignore

DEFAULT_DETECTOR = "animation"


class Shot(BaseModel):
    index: int
    start_frame: int
    end_frame: int = Field(description="first frame after the shot (exclusive)")
    start_s: float
    end_s: float

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame


class SceneResult(BaseModel):
    video: MediaInfo
    detector: str
    cuts: list[int]
    shots: list[Shot]
    transitions: list[Transition]
    flashes: list[int] = Field(default_factory=list)
    signal: list[float] = Field(default_factory=list, exclude=True,
                                description="per-frame change from the previous frame (0-1), for plots")


def make_detector(name: str = DEFAULT_DETECTOR, options: dict[str, Any] | None = None) -> SceneDetector:
    cls = get_backend("detector", name)
    if not (isinstance(cls, type) and issubclass(cls, SceneDetector)):
        raise InvalidInputError(f"detector {name!r} is not a shot detector")
    return cls(options or {})


def change_signal(features: Features) -> np.ndarray:
    """How much each frame differs from the one before (0 for the first): block change x colour change."""
    if features.n < 2:
        return np.zeros(features.n)
    bc = block_change(features.blocks[:-1], features.blocks[1:])
    hd = hist_distance(features.hist[:-1], features.hist[1:])
    return np.r_[0.0, np.clip(bc * (0.5 + hd), 0, 1)]


def _boundaries(cuts: list[int], transitions: list[Transition], n: int, fps: float) -> list[int]:
    """Where shots start: hard cuts, the middle of dissolves, and the dark middle of fade-out + fade-in."""
    starts = set(cuts)
    for i, t in enumerate(transitions):
        if t.type == "dissolve":
            starts.add((t.start_frame + t.end_frame) // 2)
        elif t.type == "fade_in" and t.start_frame > 1:
            previous = [p for p in transitions[:i] if p.type == "fade_out"]
            if previous and t.start_frame - previous[-1].end_frame <= 2 * fps:
                starts.add(t.start_frame)
    return sorted(s for s in starts if 0 < s < n)


def shots_from(features: Features, cuts: list[int], transitions: list[Transition]) -> list[Shot]:
    n = features.n
    edges = [0, *_boundaries(cuts, transitions, n, features.fps), n]
    duration = max(features.info.duration_s, float(features.times[-1]) if n else 0.0)

    def time_of(frame: int) -> float:
        return round(float(features.times[frame]), 6) if frame < n else round(duration, 6)

    return [Shot(index=i, start_frame=a, end_frame=b, start_s=time_of(a), end_s=time_of(b))
            for i, (a, b) in enumerate(zip(edges, edges[1:], strict=False)) if b > a]


def detect_scenes(path: str | os.PathLike[str] | None = None, detector: str = DEFAULT_DETECTOR,
                  options: dict[str, Any] | None = None, features: Features | None = None,
                  on_progress: ProgressCallback = ignore, fast_decode: bool = False) -> SceneResult:
    """Shots of a video (from ``path``, or from ``features`` already extracted)."""
    det = make_detector(detector, options)
    if features is None:
        if path is None:
            raise InvalidInputError("detect_scenes needs a path or features")
        features = extract_features(path, on_progress=on_progress, keep_frames=False, fast_decode=fast_decode)
    found = det.process(features)
    return SceneResult(video=features.info, detector=detector, cuts=found.cuts, transitions=found.transitions,
                       flashes=found.flashes, shots=shots_from(features, found.cuts, found.transitions),
                       signal=[round(float(x), 4) for x in change_signal(features)])
