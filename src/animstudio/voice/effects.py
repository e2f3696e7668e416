"""Post-processing of speech: pitch shift with the formant-aware rubberband filter of our ffmpeg.

    higher = shift_pitch(samples, 22050, semitones=2.0)      # same length, higher voice
"""

from __future__ import annotations

import subprocess

import numpy as np

from animstudio.errors import FFmpegError
from animstudio.media.ffmpeg import ffmpeg_exe


def shift_pitch(samples: np.ndarray, sample_rate: int, semitones: float) -> np.ndarray:
    """``samples`` (float32 mono) ``semitones`` higher or lower, tempo unchanged."""
    if not semitones:
        return samples
    scale = 2.0 ** (semitones / 12.0)
    cmd = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "f32le", "-ar", str(sample_rate), "-ac", "1",
           "-i", "-", "-af", f"rubberband=pitch={scale:.6f}:formant=preserved:pitchq=quality", "-f", "f32le", "-"]
    tail = np.zeros(sample_rate // 4, np.float32)   # rubberband holds back its last few ms: feed it silence after
    proc = subprocess.run(cmd, input=np.concatenate([samples.astype(np.float32), tail]).tobytes(), capture_output=True)
    if proc.returncode != 0:
        raise FFmpegError(f"pitch shift failed: {proc.stderr.decode(errors='replace').strip()[-300:]}")
    out = np.frombuffer(proc.stdout, np.float32)[: len(samples)]
    return np.pad(out, (0, len(samples) - len(out)))   # exactly as long as the input


def finish(samples: np.ndarray, sample_rate: int, energy: float = 1.0, semitones: float = 0.0,
           pause_before_s: float = 0.0, pause_after_s: float = 0.0) -> np.ndarray:
    """What an engine without its own controls leaves to post-processing: pitch, a gain (peaks held
    below full scale) and silence before and after."""
    out = shift_pitch(samples.astype(np.float32), sample_rate, semitones)
    if energy != 1.0:
        out = out * np.float32(energy)
        peak = float(np.abs(out).max(initial=0.0))
        if peak > 0.99:
            out = out * np.float32(0.99 / peak)
    before = np.zeros(round(pause_before_s * sample_rate), np.float32)
    after = np.zeros(round(pause_after_s * sample_rate), np.float32)
    return np.concatenate([before, out.astype(np.float32), after])


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """``samples`` at ``target`` Hz (polyphase filter; the same array when the rates match)."""
    if rate == target:
        return samples
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(rate, target)
    return resample_poly(samples, target // g, rate // g).astype(np.float32)
