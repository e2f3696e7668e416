"""The embedded appearance embedder (``palette``): a character's look as one unit vector, with no
downloaded weights, so pictures of one cartoon character lie close together whatever their pose.

The character is first found against its background: alpha where the picture has it; else, on a
flat border, the regions of the border's main colours that touch it are background, and on a grainy
(noisy) border GrabCut separates the two, started from the border; the largest foreground parts are
kept. The cut-out is scaled to a fixed height
and described by its colours (CIELAB, soft-binned; over the whole figure and in three horizontal
bands, so hair, clothes and shoes count apart), its silhouette (fill, aspect, radial spread, Hu
moments) and its texture (gradient orientations and local binary patterns). Each part is one block
of the vector; ``Options`` gives each block's share of the cosine.

    emb = PaletteEmbedder()
    vectors = emb.embed([Image.open("idle.png"), Image.open("walk3.png")])   # (2, 1110) float32
    float(vectors[0] @ vectors[1])                                           # high: one character
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from pydantic import Field

from animstudio.hookspecs import hookimpl
from animstudio.image.base import AppearanceEmbedder

NOISY = 8.0                # a border this grainy (see grain()) is a noisy background
SEGMENT = 160              # the background is estimated at most this many pixels on the long side
LOOSE = 2.0                # next to the background, pixels this near its colour (x tolerance) are background too
HEIGHT = 96                # the cut-out's height after scaling (pixels)
L_BINS = np.linspace(0, 100, 6)            # bin centres for CIELAB L*, a*, b* (soft-binned between them)
AB_BINS = np.linspace(-64, 64, 9)
BAND_L_BINS = np.linspace(0, 100, 4)       # the same, coarser, for each band
BAND_AB_BINS = np.linspace(-60, 60, 7)
BANDS = np.array([0.15, 0.5, 0.85])        # band centres, as a fraction of the figure's height
CHROMA_BLUR = 1.0          # a* and b* blurred this much (pixels) first, so JPEG's half-size chroma changes little
ORIENTATIONS = 12
RADIAL_BINS = 8


def _soft_index(values: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each value, its two nearest bin centres and their weights (linear between centres)."""
    v = np.clip(values, centres[0], centres[-1])
    pos = (v - centres[0]) / (centres[1] - centres[0])
    low = np.minimum(np.floor(pos).astype(int), len(centres) - 2)
    frac = pos - low
    return low, low + 1, frac


def soft_histogram(lab: np.ndarray, weights: np.ndarray, l_bins: np.ndarray, ab_bins: np.ndarray) -> np.ndarray:
    """A trilinear (soft) 3-d histogram of CIELAB pixels ``lab`` (n, 3), each counting ``weights``."""
    hist = np.zeros((len(l_bins), len(ab_bins), len(ab_bins)))
    parts = [_soft_index(lab[:, i], bins) for i, bins in enumerate((l_bins, ab_bins, ab_bins))]
    for corner in range(8):
        idx, w = [], weights.astype(np.float64)
        for axis, (low, high, frac) in enumerate(parts):
            upper = bool(corner >> axis & 1)
            idx.append(high if upper else low)
            w = w * (frac if upper else 1 - frac)
        np.add.at(hist, tuple(idx), w)
    return np.maximum(hist.ravel(), 0)


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIELAB of uint8 RGB: L* 0-100, a* and b* about -128-127."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


# ------------------------------------------------------------------ finding the character

def _border(shape: tuple[int, int], width: int) -> np.ndarray:
    ring = np.zeros(shape, bool)
    ring[:width], ring[-width:], ring[:, :width], ring[:, -width:] = True, True, True, True
    return ring


def grain(rgb: np.ndarray) -> np.ndarray:
    """Per-pixel noise strength: how far each pixel is from its 5x5 median (summed over the channels),
    averaged over 5x5. Flat cartoon colours and their edges give about 0; a grainy background a lot."""
    residual = np.abs(rgb.astype(np.int16) - cv2.medianBlur(rgb, 5)).sum(axis=2).astype(np.float32)
    return cv2.blur(residual, (5, 5))


def _sides(shape: tuple[int, int], width: int) -> np.ndarray:
    """Which side of the picture each border pixel lies on (0-3: top, bottom, left, right; -1 inside)."""
    side = np.full(shape, -1)
    side[:, :width], side[:, -width:], side[:width], side[-width:] = 2, 3, 0, 1
    return side


def _border_colour_distance(lab: np.ndarray, width: int, tolerance: float) -> np.ndarray:
    """How far each pixel is from the border's main colours, in units of each colour's tolerance (1: at
    its edge): k-means over the border pixels; a colour counts when it fills at least a tenth of two
    sides or more (a character touching one edge does not), its tolerance ``tolerance`` widened by its
    own spread. With no such colour, the border's commonest."""
    side = _sides(lab.shape[:2], width)
    ring = side >= 0
    samples, where = lab[ring].astype(np.float32), side[ring]
    k = min(3, len(samples))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, labels, centres = cv2.kmeans(samples, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    labels = labels.ravel()
    per_side = np.bincount(where, minlength=4)
    covered = [int(np.sum(np.bincount(where[labels == c], minlength=4) >= 0.1 * per_side)) for c in range(k)]
    chosen = [c for c in range(k) if covered[c] >= 2] or [int(np.argmax(np.bincount(labels, minlength=k)))]
    ratio = np.full(lab.shape[:2], np.inf, np.float32)
    for c in chosen:
        spread = float(np.percentile(np.linalg.norm(samples[labels == c] - centres[c], axis=1), 95))
        ratio = np.minimum(ratio, np.linalg.norm(lab - centres[c], axis=2) / (tolerance + 1.5 * spread))
    return ratio


def estimate_background(rgb: np.ndarray, tolerance: float = 12.0) -> np.ndarray:
    """True where ``rgb`` (h, w, 3 uint8) is background. On a flat border: the pixels near the border's
    main colours that are connected to it. On a grainy border: GrabCut (colour models of background
    and figure, and a graph cut along edges) started from the border as background."""
    h, w = rgb.shape[:2]
    width = max(1, min(h, w) // 40)
    ring = _border((h, w), width)
    smooth = cv2.medianBlur(rgb, 3)
    if float(np.median(grain(rgb)[ring])) > NOISY:
        return _grabcut(smooth, ring)
    distance = _border_colour_distance(_lab(smooth), width, tolerance)
    near = distance <= 1
    count, parts = cv2.connectedComponents(near.astype(np.uint8), connectivity=4)
    touching = np.unique(parts[ring & near])
    background = np.isin(parts, touching[touching > 0]) if count > 1 else near
    # the blend and ringing (JPEG) along the outline: grow into nearby pixels still rather like it
    loose, kernel = distance <= LOOSE, np.ones((3, 3), np.uint8)
    for _ in range(2):
        background |= cv2.dilate(background.astype(np.uint8), kernel).astype(bool) & loose
    return background


def _grabcut(rgb: np.ndarray, ring: np.ndarray) -> np.ndarray:
    marks = np.full(rgb.shape[:2], cv2.GC_PR_FGD, np.uint8)
    marks[ring] = cv2.GC_BGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(np.ascontiguousarray(rgb[..., ::-1]), marks, None, bgd, fgd, 5, cv2.GC_INIT_WITH_MASK)
    return (marks == cv2.GC_BGD) | (marks == cv2.GC_PR_BGD)


def _keep_largest(mask: np.ndarray, share: float = 0.15) -> np.ndarray:
    """The mask's largest connected part, with any other part at least ``share`` of its size."""
    count, parts, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 2:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = 1 + np.flatnonzero(areas >= share * areas.max())
    return np.isin(parts, keep)


def _estimate_foreground(rgb: np.ndarray) -> np.ndarray:
    """Not background, estimated on a copy at most SEGMENT pixels long, then scaled back."""
    h, w = rgb.shape[:2]
    scale = min(1.0, SEGMENT / max(h, w))
    small = rgb if scale == 1 else cv2.resize(rgb, (max(8, round(w * scale)), max(8, round(h * scale))),
                                                interpolation=cv2.INTER_AREA)
    mask = (~estimate_background(small)).astype(np.uint8)
    return cv2.resize(mask, (w, h), interpolation=cv2.INTER_NEAREST).astype(bool) if scale < 1 else mask.astype(bool)


def foreground(image: Any) -> tuple[np.ndarray, np.ndarray]:
    """The picture as (h, w, 3) uint8 RGB and a boolean mask of the character: its alpha where it has
    transparency, else everything the border's background does not reach."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    rgba = np.asarray(image.convert("RGBA"))
    rgb = np.ascontiguousarray(rgba[..., :3])
    if has_alpha and rgba[..., 3].min() < 250:
        mask = rgba[..., 3] >= 128
    else:
        mask = _estimate_foreground(rgb)
        kernel = np.ones((3, 3), np.uint8)
        mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)
    if mask.sum() < 16:                      # nothing found: the whole picture is the subject
        return rgb, np.ones(mask.shape, bool)
    return rgb, _keep_largest(mask)


def normalise(rgb: np.ndarray, mask: np.ndarray, height: int = HEIGHT) -> tuple[np.ndarray, np.ndarray]:
    """The character's bounding box scaled to ``height`` pixels (aspect kept)."""
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    scale = height / (y1 - y0)
    size = (max(1, round((x1 - x0) * scale)), height)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    crop = cv2.resize(rgb[y0:y1, x0:x1], size, interpolation=interp)
    cut = cv2.resize(mask[y0:y1, x0:x1].astype(np.float32), size, interpolation=cv2.INTER_LINEAR) >= 0.5
    return crop, cut


# ------------------------------------------------------------------ describing it

def colour_features(lab: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The figure's soft CIELAB histogram, and one coarser histogram per horizontal band (head,
    body, legs: each pixel split between the two nearest bands), all as square roots (Hellinger)."""
    ys, _ = np.nonzero(mask)
    pixels = lab[mask]
    ones = np.ones(len(pixels))
    whole = np.sqrt(soft_histogram(pixels, ones / len(pixels), L_BINS, AB_BINS))
    rel = ys / max(1, mask.shape[0] - 1)
    low, high, frac = _soft_index(rel, BANDS)
    bands = []
    for b in range(len(BANDS)):
        share = np.where(low == b, 1 - frac, 0) + np.where(high == b, frac, 0)
        total = share.sum()
        hist = soft_histogram(pixels, share / total, BAND_L_BINS, BAND_AB_BINS) if total > 0 else \
            np.zeros(len(BAND_L_BINS) * len(BAND_AB_BINS) ** 2)
        bands.append(np.sqrt(hist))
    return whole, np.concatenate(bands)


def shape_features(mask: np.ndarray) -> np.ndarray:
    """Pose-tolerant silhouette numbers: fill of the box, aspect, radial spread histogram around the
    centroid (in units of the figure's size) and log Hu moments."""
    m = mask.astype(np.uint8)
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    area = len(ys)
    radius = np.hypot(ys - ys.mean(), xs - xs.mean()) / np.sqrt(area)
    radial, _ = np.histogram(radius, bins=RADIAL_BINS, range=(0, 1.6))
    hu = cv2.HuMoments(cv2.moments(m, binaryImage=True)).ravel()[:4]
    hu = -np.sign(hu) * np.log10(np.abs(hu) + 1e-12) / 10
    return np.concatenate([[area / (h * w), w / h], radial / area, hu])


def _lbp(gray: np.ndarray) -> np.ndarray:
    """Uniform 8-neighbour local binary patterns (rotation invariant: the count of set bits, 0-8, or 9
    for non-uniform codes)."""
    g = np.pad(gray.astype(np.int16), 1, mode="edge")
    centre = g[1:-1, 1:-1]
    offsets = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2), (2, 1), (2, 0), (1, 0)]
    bits = np.stack([g[y:y + centre.shape[0], x:x + centre.shape[1]] >= centre + 3 for y, x in offsets])
    changes = (bits != np.roll(bits, 1, axis=0)).sum(axis=0)
    return np.where(changes <= 2, bits.sum(axis=0), 9)


def texture_features(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Inside the figure (its outline excluded): gradient orientations weighted by strength, and the
    local binary pattern histogram."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    inner = cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    if inner.sum() < 16:
        inner = mask
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = np.hypot(gx, gy)[inner]
    angle = np.mod(np.arctan2(gy, gx)[inner], np.pi)
    orient, _ = np.histogram(angle, bins=ORIENTATIONS, range=(0, np.pi), weights=magnitude)
    codes = np.bincount(_lbp(gray)[inner], minlength=10)
    return np.concatenate([np.sqrt(orient / max(orient.sum(), 1e-9)), np.sqrt(codes / codes.sum())])


class PaletteEmbedder(AppearanceEmbedder):
    name = "palette"
    description = "a character's colours, silhouette and texture, with no model weights (cartoons and sprites)"

    class Options(AppearanceEmbedder.Options):
        colour: float = Field(0.35, ge=0, le=1, description="share of the figure's colour histogram")
        bands: float = Field(0.45, ge=0, le=1, description="share of the colour histograms of head, body and legs")
        shape: float = Field(0.05, ge=0, le=1, description="share of the silhouette descriptors")
        texture: float = Field(0.15, ge=0, le=1, description="share of gradient orientations and local binary "
                                                             "patterns")

    def describe(self, image: Any) -> list[np.ndarray]:
        """The picture's unit-length blocks: colour, bands, shape, texture."""
        rgb, mask = normalise(*foreground(image))
        inner = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        if inner.sum() < 16:
            inner = mask
        # colours: edge pixels (a blend with the background) left out; a 3x3 median against JPEG ringing
        lab = _lab(cv2.medianBlur(rgb, 3))
        if CHROMA_BLUR > 0:
            lab[..., 1:] = cv2.GaussianBlur(lab[..., 1:], (0, 0), CHROMA_BLUR)
        whole, bands = colour_features(lab, inner)
        return [_unit(whole), _unit(bands), _unit(shape_features(mask)), _unit(texture_features(rgb, mask))]

    def embed(self, images: list[Any]) -> np.ndarray:
        o = self.options
        shares = np.array([o.colour, o.bands, o.shape, o.texture], np.float64)
        if shares.sum() <= 0:
            shares = np.ones_like(shares)
        shares = np.sqrt(shares / shares.sum())
        rows = [np.concatenate([s * b for s, b in zip(shares, self.describe(im), strict=True)]) for im in images]
        out = np.asarray(rows, np.float32).reshape(len(images), -1)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


@hookimpl
def register_appearance_embedders(register) -> None:  # type: ignore[no-untyped-def]
    from animstudio.image.vision_model import VisionModelEmbedder

    register(PaletteEmbedder)
    register(VisionModelEmbedder)
