"""Composition per shot, on a representative keyframe: shot size, subject position, palette, tone.

The main subject is the largest face where a face detector finds one, and otherwise the most
salient region (spectral-residual saliency, which works on flat cartoon colours where face
detectors fail). Sizes are the subject's height as a share of the frame's.

    >>> comp = composition(features, shots)[0]
    >>> comp.shot_size, comp.palette[0].hex, comp.thirds_score
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from animstudio.analysis.camera import _cv2
from animstudio.analysis.features import Features
from animstudio.analysis.scenes import Shot

ShotSize = Literal["extreme_wide", "wide", "medium", "close_up", "extreme_close_up"]


class Swatch(BaseModel):
    hex: str
    share: float


class Composition(BaseModel):
    shot: int
    keyframe: int
    shot_size: ShotSize
    subject: Literal["face", "saliency", "none"]
    subject_box: list[float] = Field(description="x, y, width, height as shares of the frame")
    subject_centre: list[float] = Field(description="x, y as shares of the frame")
    thirds_score: float = Field(description="1: on a rule-of-thirds intersection, 0: as far as can be")
    palette: list[Swatch]
    brightness: float = Field(description="mean luma, 0-1")
    contrast: float = Field(description="luma standard deviation, 0-1")
    saturation: float = Field(description="mean HSV saturation, 0-1")
    symmetry: float = Field(description="left-right mirror similarity, 0-1")


def _saliency_box(cv2, gray: np.ndarray) -> tuple[float, float, float, float] | None:  # type: ignore[no-untyped-def]
    """Bounding box (x, y, w, h in pixels) of the largest salient region (spectral residual)."""
    small = cv2.resize(gray.astype(np.float32), (64, 64))
    spectrum = np.fft.fft2(small)
    log_amp = np.log(np.abs(spectrum) + 1e-9)
    residual = log_amp - cv2.blur(log_amp, (3, 3))
    sal = np.abs(np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))) ** 2
    sal = cv2.GaussianBlur(sal, (9, 9), 2.5)
    sal = cv2.resize(sal, (gray.shape[1], gray.shape[0]))
    mask = (sal > sal.mean() + 1.0 * sal.std()).astype(np.uint8)
    mask = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    if count < 2:
        return None
    # the salient regions together: characters are often several parts (head, body, hands)
    big = [stats[i] for i in range(1, count) if stats[i, 4] >= 0.1 * stats[1:, 4].max()]
    x0 = min(s[0] for s in big)
    y0 = min(s[1] for s in big)
    x1 = max(s[0] + s[2] for s in big)
    y1 = max(s[1] + s[3] for s in big)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def _foreground_box(cv2, rgb: np.ndarray) -> tuple[float, float, float, float] | None:  # type: ignore[no-untyped-def]
    """Box around what is not background, where the background is the colours along the frame's edge.

    Cartoon backgrounds are flat colours that reach the frame's top and sides; characters mostly do not.
    """
    h, w = rgb.shape[:2]
    # top and sides only: characters in close-ups are cut by the bottom edge
    ring = np.concatenate([rgb[:3].reshape(-1, 3), rgb[:, :3].reshape(-1, 3),
                           rgb[:, -3:].reshape(-1, 3)]).astype(np.float32)
    cv2.setRNGSeed(0)
    k = min(6, len(np.unique(ring, axis=0)))
    _, _, centres = cv2.kmeans(ring, k, None, (cv2.TERM_CRITERIA_MAX_ITER, 10, 1.0), 1, cv2.KMEANS_PP_CENTERS)
    dist = np.min(np.linalg.norm(rgb[:, :, None, :].astype(np.float32) - centres[None, None], axis=-1), axis=-1)
    mask = (dist > 45).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    share = mask.mean()
    if share < 0.01 or share > 0.85:
        return None  # nothing stands out, or the edge colours are not a background
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    big = [stats[i] for i in range(1, count) if stats[i, 4] >= 0.15 * stats[1:, 4].max()]
    x0, y0 = min(s[0] for s in big), min(s[1] for s in big)
    x1, y1 = max(s[0] + s[2] for s in big), max(s[1] + s[3] for s in big)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def _size_label(height_share: float, face: bool) -> ShotSize:
    # a face fills less of the frame than the whole character at the same framing
    cuts = (0.55, 0.3, 0.12, 0.05) if face else (0.95, 0.75, 0.45, 0.2)
    labels: tuple[ShotSize, ...] = ("extreme_close_up", "close_up", "medium", "wide")
    for limit, label in zip(cuts, labels, strict=True):
        if height_share >= limit:
            return label
    return "extreme_wide"


def _palette(cv2, rgb: np.ndarray, k: int = 5) -> list[Swatch]:  # type: ignore[no-untyped-def]
    pixels = rgb.reshape(-1, 3).astype(np.float32)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    k = min(k, len(np.unique(pixels, axis=0)))
    cv2.setRNGSeed(0)
    _, labels, centres = cv2.kmeans(pixels, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    shares = np.bincount(labels.ravel(), minlength=k) / len(labels)
    order = np.argsort(-shares)
    return [Swatch(hex="#{:02x}{:02x}{:02x}".format(*np.clip(centres[i], 0, 255).astype(int)),
                   share=round(float(shares[i]), 3)) for i in order]


def composition_of(rgb: np.ndarray, shot: int = 0, keyframe: int = 0) -> Composition:
    cv2 = _cv2()
    h, w = rgb.shape[:2]
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    big = cv2.resize(gray, (w * 2, h * 2)) if w < 400 else gray
    faces = cascade.detectMultiScale(big, scaleFactor=1.1, minNeighbors=6, minSize=(24, 24))
    kind: Literal["face", "saliency", "none"] = "none"
    box = None
    if len(faces):
        fx, fy, fw, fh = max(faces, key=lambda f: f[2] * f[3]) / (2 if w < 400 else 1)
        box, kind = (float(fx), float(fy), float(fw), float(fh)), "face"
    else:
        box = _foreground_box(cv2, rgb) or _saliency_box(cv2, gray)
        kind = "saliency" if box else "none"
    bx, by, bw, bh = box or (0.0, 0.0, float(w), float(h))
    cx, cy = (bx + bw / 2) / w, (by + bh / 2) / h
    thirds = min(np.hypot(cx - tx, cy - ty) for tx in (1 / 3, 2 / 3) for ty in (1 / 3, 2 / 3))
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    g = gray.astype(np.float32)
    return Composition(
        shot=shot, keyframe=keyframe, shot_size=_size_label(bh / h, kind == "face") if box else "extreme_wide",
        subject=kind, subject_box=[round(bx / w, 3), round(by / h, 3), round(bw / w, 3), round(bh / h, 3)],
        subject_centre=[round(cx, 3), round(cy, 3)],
        thirds_score=round(float(1 - thirds / np.hypot(1 / 3, 1 / 3)), 3), palette=_palette(cv2, rgb),
        brightness=round(float(g.mean() / 255), 3), contrast=round(float(g.std() / 128), 3),
        saturation=round(float(hsv[..., 1].mean() / 255), 3),
        symmetry=round(float(1 - np.abs(g - g[:, ::-1]).mean() / 255), 3))


def keyframe(features: Features, shot: Shot) -> int:
    """The kept frame nearest the middle of the shot."""
    inside = [i for i in features.keep if shot.start_frame <= i < shot.end_frame]
    middle = (shot.start_frame + shot.end_frame) / 2
    return min(inside, key=lambda i: abs(i - middle)) if inside else min(features.keep,
                                                                          key=lambda i: abs(i - middle))


def composition(features: Features, shots: list[Shot]) -> list[Composition]:
    out = []
    for shot in shots:
        k = keyframe(features, shot)
        out.append(composition_of(features.keep[k], shot.index, k))
    return out
