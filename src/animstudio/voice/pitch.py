"""Pitch of speech: the median fundamental frequency of voiced frames (YIN).

    median_f0(speech.audio, speech.sample_rate)      # e.g. 118.4 (Hz)
"""

from __future__ import annotations

import numpy as np


def median_f0(samples: np.ndarray, sample_rate: int, fmin: float = 60.0, fmax: float = 400.0,
              threshold: float = 0.15) -> float:
    """Median F0 in Hz over frames louder than -34 dBFS whose cumulative-mean-normalised difference
    dips below ``threshold``; 0.0 when nothing is voiced."""
    x = samples.astype(np.float64)
    hop, win = sample_rate // 100, sample_rate // 20
    lo, hi = int(sample_rate // fmax), int(sample_rate // fmin)
    f0 = []
    for i in range(0, len(x) - win - hi, hop):
        frame = x[i:i + win + hi]
        if np.sqrt((frame[:win] ** 2).mean()) < 0.02:
            continue
        d = np.array([np.sum((frame[:win] - frame[tau:tau + win]) ** 2) for tau in range(hi)])
        cmnd = d[1:] * np.arange(1, hi) / np.maximum(np.cumsum(d[1:]), 1e-12)
        dips = np.flatnonzero(cmnd[lo - 1:] < threshold)
        if dips.size:
            tau = lo + int(dips[0])
            while tau + 1 < hi and cmnd[tau] < cmnd[tau - 1]:   # down to the bottom of that dip
                tau += 1
            f0.append(sample_rate / tau)
    return float(np.median(f0)) if f0 else 0.0
