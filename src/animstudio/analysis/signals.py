"""Frame-difference signals on the shared features, vectorised over whole videos.

    >>> hist_distance(f.hist[:-1], f.hist[1:])      # (N-1,) 0 (same colours) .. 1 (disjoint)
"""

from __future__ import annotations

import numpy as np

BLOCK_CHANGE = 25.0   # a block "changed" when a channel's mean moved by more than this (0-255)
CHUNK = 1024          # frames compared at a time


def hist_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 - histogram intersection, along the last axis."""
    return 1.0 - np.minimum(a, b).sum(axis=-1)


def block_change(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Fraction of blocks whose colour changed, for stacks of (9, 16, 3) block means."""
    if a.ndim == 4 and len(a) > CHUNK:  # long videos: small temporaries
        return np.concatenate([block_change(a[i:i + CHUNK], b[i:i + CHUNK]) for i in range(0, len(a), CHUNK)])
    d = np.abs(a - b)
    worst = np.maximum(np.maximum(d[..., 0], d[..., 1]), d[..., 2])  # much faster than max(axis=-1)
    return (worst > BLOCK_CHANGE).mean(axis=(-2, -1))


def shift_residual(a: np.ndarray, b: np.ndarray, max_shift: int = 4) -> float:
    """Smallest mean absolute difference between two thumbnails over small translations.

    A camera move leaves a small residual once the shift is undone; a cut does not.
    """
    h, w = a.shape
    best = float("inf")
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            ya, yb = max(0, dy), max(0, -dy)
            xa, xb = max(0, dx), max(0, -dx)
            pa = a[ya:h - yb, xa:w - xb]
            pb = b[yb:h - ya, xb:w - xa]
            best = min(best, float(np.abs(pa - pb).mean()))
    return best
