"""Camera motion per shot: pan, tilt, zoom, roll, shake or static, with magnitudes per second.

Background features are tracked between the sampled frames of the one decode pass (corners and
pyramidal Lucas-Kanade flow) and a similarity transform is fitted with RANSAC, so characters moving
in front are outliers rather than votes. Conventions, as a camera operator says them: "pan left"
means the camera turns left, so the picture moves right; "tilt up": the picture moves down;
"zoom in": the picture grows. Rolls are named by the way the picture turns on screen ("roll
clockwise": the picture turns clockwise), as motion-conditioned video generators label them.

    >>> moves = camera_motion(features, shots)
    >>> moves[2].label, moves[2].pan_per_s        # "pan_right", -0.22 (frame widths a second)
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from animstudio.analysis.detector import Transition
from animstudio.analysis.features import Features
from animstudio.analysis.scenes import Shot
from animstudio.errors import MissingDependencyError

Label = Literal["static", "pan_left", "pan_right", "tilt_up", "tilt_down", "zoom_in", "zoom_out",
                "roll_clockwise", "roll_anticlockwise", "shake", "unknown"]
STATIC = 0.03      # below this (frame sizes, log-scale or radians a second) nothing is moving
SHAKE = 0.02       # jitter (frame sizes per step, std) with no steady direction


class CameraMotion(BaseModel):
    shot: int
    label: Label
    pan_per_s: float = Field(description="picture motion in frame widths a second; positive: picture moves right")
    tilt_per_s: float = Field(description="picture motion in frame heights a second; positive: picture moves down")
    zoom_per_s: float = Field(description="log scale change a second; positive: zoom in")
    roll_deg_per_s: float = Field(description="picture rotation, degrees a second; positive: clockwise on screen")
    shake: float = Field(description="step-to-step jitter, frame sizes")
    tracked_points: int = Field(description="median background points tracked per step")


def _cv2():  # type: ignore[no-untyped-def]
    try:
        import cv2
    except ImportError as exc:
        raise MissingDependencyError.for_extra("opencv-python-headless", "analysis", "camera motion") from exc
    return cv2


def _step(cv2, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int] | None:  # type: ignore[no-untyped-def]
    """Similarity transform taking picture ``a`` to ``b`` about the centre: (dx, dy, log s, angle), inliers."""
    ga = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)
    gb = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    if np.array_equal(ga, gb):
        return np.zeros(4), -1  # a held drawing: nothing moved
    pts = cv2.goodFeaturesToTrack(ga, maxCorners=300, qualityLevel=0.005, minDistance=4, blockSize=5)
    if pts is None or len(pts) < 6:
        return None
    nxt, status, _ = cv2.calcOpticalFlowPyrLK(ga, gb, pts, None, winSize=(15, 15), maxLevel=3)
    ok = status.ravel() == 1
    if ok.sum() < 6:
        return None
    matrix, inliers = cv2.estimateAffinePartial2D(pts[ok], nxt[ok], method=cv2.RANSAC, ransacReprojThreshold=1.0,
                                                  maxIters=500, confidence=0.99)
    if matrix is None:
        return None
    h, w = ga.shape
    centre = np.array([w / 2, h / 2])
    moved = matrix[:, :2] @ centre + matrix[:, 2]
    scale = math.hypot(matrix[0, 0], matrix[1, 0])
    angle = math.atan2(matrix[1, 0], matrix[0, 0])  # y points down: positive is clockwise on screen
    return np.array([(moved[0] - centre[0]) / w, (moved[1] - centre[1]) / h, math.log(scale), angle]), \
        int(inliers.sum())


def _label(rates: np.ndarray, shake: float) -> Label:
    pan, tilt, zoom, roll = rates
    size = {"pan": abs(pan), "tilt": abs(tilt), "zoom": abs(zoom), "roll": abs(roll)}
    kind = max(size, key=size.get)  # type: ignore[arg-type]
    if size[kind] < STATIC:
        return "shake" if shake > SHAKE else "static"
    if kind == "pan":
        return "pan_left" if pan > 0 else "pan_right"
    if kind == "tilt":
        return "tilt_up" if tilt > 0 else "tilt_down"
    if kind == "zoom":
        return "zoom_in" if zoom > 0 else "zoom_out"
    return "roll_clockwise" if roll > 0 else "roll_anticlockwise"


def camera_motion(features: Features, shots: list[Shot],
                  transitions: list[Transition] | None = None) -> list[CameraMotion]:
    """Camera motion of each shot; frames inside fades and dissolves (and near-uniform frames) are skipped."""
    cv2 = _cv2()
    blended = {i for t in transitions or [] for i in range(t.start_frame - 1, t.end_frame + 1)}
    kept = [i for i in sorted(features.keep) if i not in blended and features.spread[i] >= 15]
    out = []
    for shot in shots:
        frames = [i for i in kept if shot.start_frame <= i < shot.end_frame]
        steps, counts = [], []
        for a, b in zip(frames, frames[1:], strict=False):
            found = _step(cv2, features.keep[a], features.keep[b])
            if found is not None:
                steps.append(found[0])
                if found[1] >= 0:
                    counts.append(found[1])
        seconds = max(1e-6, shot.end_s - shot.start_s)
        if not steps:
            out.append(CameraMotion(shot=shot.index, label="unknown" if len(frames) > 1 else "static", pan_per_s=0,
                                    tilt_per_s=0, zoom_per_s=0, roll_deg_per_s=0, shake=0,
                                    tracked_points=0))
            continue
        arr = np.array(steps)
        span = max(1e-6, float(features.times[frames[-1]] - features.times[frames[0]]) or seconds)
        rates = arr.sum(axis=0) / span
        moving = arr[np.abs(arr[:, :2]).sum(axis=1) > 0]
        shake = float(np.linalg.norm(moving[:, :2].std(axis=0))) if len(moving) > 2 else 0.0
        out.append(CameraMotion(shot=shot.index, label=_label(rates, shake), pan_per_s=round(float(rates[0]), 4),
                                tilt_per_s=round(float(rates[1]), 4), zoom_per_s=round(float(rates[2]), 4),
                                roll_deg_per_s=round(math.degrees(rates[3]), 3), shake=round(shake, 4),
                                tracked_points=int(np.median(counts)) if counts else 0))
    return out
