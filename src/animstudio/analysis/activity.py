"""How lively each frame is: picture motion (mean change of the thumbnails from the frame before)
and sound energy (RMS of the audio under the frame), each as z-scores, and their sum.

    feats = extract_features("clip.mp4", keep_frames=False)
    per_frame = liveliness("clip.mp4", feats)       # (n,) higher = more going on
"""

from __future__ import annotations

import os

import numpy as np

from animstudio.analysis.features import Features

AUDIO_RATE = 8000   # enough to measure loudness per frame


def zscore(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std() if x.size > 1 and x.std() > 1e-9 else np.zeros_like(x, dtype=np.float64)


def motion_per_frame(features: Features) -> np.ndarray:
    """(n,) mean absolute change of each frame's thumbnail from the frame before (0 for the first)."""
    return np.r_[0.0, np.abs(np.diff(features.thumbs.astype(np.float64), axis=0)).mean(axis=(1, 2))]


def energy_per_frame(path: str | os.PathLike[str], features: Features) -> np.ndarray:
    """(n,) RMS of the sound under each frame; zeros for a clip without sound."""
    if not features.info.audio:
        return np.zeros(features.n)
    from animstudio.media import decode_audio

    samples, rate = decode_audio(path, sample_rate=AUDIO_RATE)
    frame_of = np.minimum((np.arange(samples.size) * features.fps / rate).astype(int), features.n - 1)
    sums = np.bincount(frame_of, weights=samples.astype(np.float64) ** 2, minlength=features.n)
    counts = np.maximum(np.bincount(frame_of, minlength=features.n), 1)
    return np.sqrt(sums / counts)


def liveliness(path: str | os.PathLike[str], features: Features) -> np.ndarray:
    """(n,) z-scored motion plus z-scored sound energy per frame."""
    return zscore(motion_per_frame(features)) + zscore(energy_per_frame(path, features))
