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
