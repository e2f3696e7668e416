"""Temporal coherence per shot and overall (0-1, 1 = perfectly coherent), the QA measures used on
AI-generated animation:

- warp error: a frame is predicted from the one before it by dense optical flow
  (Farneback); the mean absolute error of that prediction is what motion cannot explain
  (boiling lines, popping details);
- flicker: the change of mean luminance between a frame and its motion-compensated predecessor,
  i.e. brightness jitter that no movement accounts for.

Scores map errors to 0-1 with ``exp(-error / scale)``; the raw errors are reported too.

    >>> coh = coherence(features, shots)
    >>> coh.overall, coh.shots[0].warp_error
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from animstudio.analysis.camera import _cv2
from animstudio.analysis.features import Features, gray_u8
from animstudio.analysis.scenes import Shot

WARP_SCALE = 0.04     # a mean warp error of 4 % of full scale scores exp(-1) = 0.37
FLICKER_SCALE = 0.01  # a 1 % luminance jump scores exp(-1)


class ShotCoherence(BaseModel):
    shot: int
    score: float = Field(description="0-1, the mean of the warp and flicker scores")
    warp_error: float = Field(description="mean absolute error of motion-compensated prediction, 0-1")
    flicker: float = Field(description="mean luminance jump after motion compensation, 0-1")
    pairs: int = Field(description="frame pairs measured")


class Coherence(BaseModel):
    overall: float
    warp_error: float
    flicker: float
    shots: list[ShotCoherence]


def _gray(cv2, img: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The same gray as the features' stored neighbours, so no brightness offset creeps in."""
    return (gray_u8(img) if img.ndim == 3 else img).astype(np.float32)


def _pair(cv2, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    ga, gb = _gray(cv2, a), _gray(cv2, b)
    if np.array_equal(ga, gb):
        return 0.0, 0.0
    flow = cv2.calcOpticalFlowFarneback(gb.astype(np.uint8), ga.astype(np.uint8), None, 0.5, 3, 15, 3, 5, 1.2, 0)
    h, w = ga.shape
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    warped = cv2.remap(ga, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    m = 4  # ignore the border, where content enters or leaves the frame
    err = float(np.abs(warped[m:-m, m:-m] - gb[m:-m, m:-m]).mean() / 255)
    flick = float(abs(warped[m:-m, m:-m].mean() - gb[m:-m, m:-m].mean()) / 255)
    return err, flick


def coherence(features: Features, shots: list[Shot]) -> Coherence:
    cv2 = _cv2()
    kept = sorted(features.keep)
    per_shot = []
    for shot in shots:
        # neighbouring frames (i, i + 1) sampled through the shot; without them, sampled frames in a row
        frames = [i for i in kept if shot.start_frame <= i < shot.end_frame - 1]
        if any(i in features.after for i in frames):
            pairs = [_pair(cv2, features.keep[i], features.after[i]) for i in frames if i in features.after]
        else:
            pairs = [_pair(cv2, features.keep[a], features.keep[b]) for a, b in zip(frames, frames[1:], strict=False)]
        warp = float(np.mean([p[0] for p in pairs])) if pairs else 0.0
        flick = float(np.mean([p[1] for p in pairs])) if pairs else 0.0
        score = 0.5 * (np.exp(-warp / WARP_SCALE) + np.exp(-flick / FLICKER_SCALE))
        per_shot.append(ShotCoherence(shot=shot.index, score=round(float(score), 4), warp_error=round(warp, 5),
                                      flicker=round(flick, 5), pairs=len(pairs)))
    weights = np.array([max(1, s.frames) for s in shots], float)
    avg = lambda xs: float(np.average(xs, weights=weights)) if len(xs) else 0.0  # noqa: E731
    return Coherence(overall=round(avg([s.score for s in per_shot]), 4),
                     warp_error=round(avg([s.warp_error for s in per_shot]), 5),
                     flicker=round(avg([s.flicker for s in per_shot]), 5), shots=per_shot)
