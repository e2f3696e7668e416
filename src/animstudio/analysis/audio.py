"""Audio analysis: integrated loudness (EBU R128), speech segments (Silero VAD) and silences.

Loudness comes from ffmpeg's ``ebur128`` filter (the packaged binary); speech from the Silero VAD
ONNX model in the model catalog (installed from its package on first use); silences from the
short-term level of the decoded track.

    >>> a = analyze_audio("clip.mp4")
    >>> a.integrated_lufs, a.speech[0].start_s, a.silences
"""

from __future__ import annotations

import os
import re
import subprocess

import numpy as np
from pydantic import BaseModel, Field

from animstudio.errors import FFmpegError, MissingDependencyError
from animstudio.media import decode_audio, probe
from animstudio.media.ffmpeg import ffmpeg_exe
from animstudio.media.probe import require_audio
from animstudio.progress import Progress, ProgressCallback, ignore

RATE = 16000
VAD_MODEL = "silero-vad"
CHUNK, CONTEXT = 512, 64          # the model's window at 16 kHz and the samples it overlaps


class Segment(BaseModel):
    start_s: float
    end_s: float


class AudioAnalysis(BaseModel):
    has_audio: bool
    integrated_lufs: float | None = Field(None, description="EBU R128 integrated loudness")
    loudness_range_lu: float | None = None
    true_peak_dbfs: float | None = None
    speech: list[Segment] = Field(default_factory=list)
    silences: list[Segment] = Field(default_factory=list)
    speech_ratio: float = 0.0


def loudness(path: str | os.PathLike[str]) -> tuple[float | None, float | None, float | None]:
    """(integrated LUFS, loudness range LU, true peak dBFS) of the first audio stream."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-i", str(path), "-map", "0:a:0",
                           "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise FFmpegError(f"ffmpeg could not measure loudness: {proc.stderr.strip().splitlines()[-1:]}")
    summary = proc.stderr[proc.stderr.rfind("Summary:"):]

    def grab(label: str) -> float | None:
        m = re.search(rf"{label}:\s+(-?[\d.]+|-inf)", summary)
        return None if not m or m.group(1) == "-inf" else float(m.group(1))

    return grab("I"), grab("LRA"), grab("Peak")


def _vad_session():  # type: ignore[no-untyped-def]
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise MissingDependencyError.for_extra("onnxruntime", "analysis", "speech detection") from exc
    from animstudio.models.install import ensure

    path = ensure(VAD_MODEL)  # a 2 MB model from its package: installed on first use
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def speech_probabilities(samples: np.ndarray) -> np.ndarray:
    """Speech probability for each 32 ms chunk of 16 kHz mono audio."""
    session = _vad_session()
    state = np.zeros((2, 1, 128), np.float32)
    context = np.zeros((1, CONTEXT), np.float32)
    sr = np.array(RATE, dtype=np.int64)
    n = len(samples) // CHUNK
    probs = np.zeros(n, np.float32)
    for i in range(n):
        x = np.concatenate([context, samples[None, i * CHUNK:(i + 1) * CHUNK]], axis=1).astype(np.float32)
        out, state = session.run(None, {"input": x, "state": state, "sr": sr})
        probs[i] = float(out.reshape(-1)[0])
        context = x[:, -CONTEXT:]
    return probs


def _segments(active: np.ndarray, step_s: float, min_on_s: float, min_off_s: float) -> list[Segment]:
    """Runs of True at least ``min_on_s`` long, bridging gaps shorter than ``min_off_s``."""
    segs: list[list[float]] = []
    idx = np.flatnonzero(np.diff(np.r_[0, active.astype(int), 0]))
    for a, b in zip(idx[::2], idx[1::2], strict=False):
        start, end = a * step_s, b * step_s
        if segs and start - segs[-1][1] < min_off_s:
            segs[-1][1] = end
        else:
            segs.append([start, end])
    return [Segment(start_s=round(a, 3), end_s=round(b, 3)) for a, b in segs if b - a >= min_on_s]


def speech_segments(samples: np.ndarray, threshold: float = 0.5) -> list[Segment]:
    probs = speech_probabilities(samples)
    on = probs >= threshold
    # hysteresis: a chunk just under the threshold next to speech stays speech
    on |= (probs >= threshold - 0.15) & (np.r_[False, on[:-1]] | np.r_[on[1:], False])
    return _segments(on, CHUNK / RATE, min_on_s=0.25, min_off_s=0.1)


def silences(samples: np.ndarray, floor_dbfs: float = -50.0, min_s: float = 0.5) -> list[Segment]:
    window = RATE // 20  # 50 ms
    n = len(samples) // window
    if n == 0:
        return []
    rms = np.sqrt(np.mean(samples[: n * window].reshape(n, window) ** 2, axis=1) + 1e-12)
    quiet = 20 * np.log10(rms) < floor_dbfs
    return _segments(quiet, window / RATE, min_on_s=min_s, min_off_s=0.0)


def analyze_audio(path: str | os.PathLike[str], on_progress: ProgressCallback = ignore) -> AudioAnalysis:
    info = probe(path, count_frames=False)
    if not info.audio:
        return AudioAnalysis(has_audio=False)
    require_audio(info)
    on_progress(Progress("audio", 0, 3, "steps", "loudness"))
    lufs, lra, peak = loudness(path)
    on_progress(Progress("audio", 1, 3, "steps", "decode"))
    samples, _ = decode_audio(path, sample_rate=RATE)
    on_progress(Progress("audio", 2, 3, "steps", "speech"))
    speech = speech_segments(samples)
    total = len(samples) / RATE
    on_progress(Progress("audio", 3, 3, "steps"))
    return AudioAnalysis(has_audio=True, integrated_lufs=lufs, loudness_range_lu=lra, true_peak_dbfs=peak,
                         speech=speech, silences=silences(samples),
                         speech_ratio=round(sum(s.end_s - s.start_s for s in speech) / total, 4) if total else 0.0)
