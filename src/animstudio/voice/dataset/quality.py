"""Quality checks for training clips: length, loudness against the noise under it, clipping.

    >>> snr_db(clip, noise_power=1e-6)     # speech power over the noise floor, in dB
    >>> clipped_fraction(clip)              # share of samples stuck at full scale
"""

from __future__ import annotations

import numpy as np

RATE = 16000
FRAME = 512                  # 32 ms: the voice-activity frame, so scores and powers line up
FULL_SCALE = 0.999           # a sample this loud (of 1.0) is taken as clipped
MAX_CLIPPED = 1e-3           # clips with more clipped samples than this share are rejected
MAX_SNR_DB = 60.0            # reported ceiling: digital silence between words would give infinity
NOISE_FLOOR = 1e-10          # power of -100 dBFS: below any real recording's noise


def frame_powers(samples: np.ndarray) -> np.ndarray:
    """Mean square of each 32 ms frame (the last frame padded with zeros)."""
    n = -(-len(samples) // FRAME)
    padded = np.zeros(n * FRAME, np.float64)
    padded[: len(samples)] = samples
    return np.mean(padded.reshape(n, FRAME) ** 2, axis=1)


def noise_power(powers: np.ndarray, probs: np.ndarray, start: int, end: int, around: int = 94) -> float | None:
    """Median power of the non-speech frames (score < 0.2) within ``around`` frames (3 s) of
    frames [start, end); None when fewer than 0.25 s of them are there to go by."""
    lo, hi = max(0, start - around), min(len(powers), end + around)
    quiet = powers[lo:hi][probs[lo:hi] < 0.2]
    if len(quiet) < 8:
        return None
    return float(np.median(quiet))


def snr_db(powers: np.ndarray, probs: np.ndarray, noise: float | None) -> float:
    """Signal-to-noise ratio of a clip's speech frames (score >= 0.5) over ``noise`` (a power);
    without a measured ``noise``, the clip's quietest frames (5th percentile) stand for it."""
    speech = powers[probs >= 0.5]
    if len(speech) == 0:
        speech = powers
    floor = noise if noise is not None else float(np.percentile(powers, 5))
    floor = max(floor, NOISE_FLOOR)
    signal = max(float(np.mean(speech)) - floor, NOISE_FLOOR)
    return float(min(MAX_SNR_DB, 10 * np.log10(signal / floor)))


def clipped_fraction(samples: np.ndarray) -> float:
    """Share of samples at full scale (the recording was too loud and its peaks were cut)."""
    if len(samples) == 0:
        return 0.0
    return float(np.count_nonzero(np.abs(samples) >= FULL_SCALE)) / len(samples)
