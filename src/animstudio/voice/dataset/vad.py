"""Voice activity: where people speak, from the Silero VAD model (ONNX, catalog ``silero-vad``).

The model scores 32 ms frames of 16 kHz audio; frames above ``threshold`` start speech, and speech
ends once the score stays below ``threshold - 0.15`` for ``min_silence_s``.

    >>> probs = speech_probabilities(samples)        # one score per 32 ms frame, in [0, 1]
    >>> speech_regions(probs)                         # [(0.31, 4.86), ...] in seconds
"""

from __future__ import annotations

from typing import Any

import numpy as np

from animstudio.errors import MissingDependencyError
from animstudio.models.loaded import LoadOnce
from animstudio.progress import Progress, ProgressCallback, ignore

RATE = 16000
FRAME = 512            # samples the model scores at a time (32 ms)
CONTEXT = 64           # samples of the previous frame the model sees before each frame
FRAME_S = FRAME / RATE
MODEL = "silero-vad"

def _load(name: str) -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise MissingDependencyError.for_extra("onnxruntime", "voice", "voice activity detection") from exc
    from animstudio.models.install import ensure

    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = 1  # one 32 ms frame at a time: threads only add overhead
    opts.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(ensure(name)), sess_options=opts, providers=["CPUExecutionProvider"])


_LOADED: LoadOnce[str, Any] = LoadOnce(_load)


def speech_probabilities(samples: np.ndarray, on_progress: ProgressCallback = ignore,
                         task: str = "find speech") -> np.ndarray:
    """The model's speech score for each 32 ms frame of 16 kHz mono ``samples`` (the last frame padded)."""
    with _LOADED.use(MODEL) as model:
        return _scores(model, samples, on_progress, task)


def _scores(model: Any, samples: np.ndarray, on_progress: ProgressCallback, task: str) -> np.ndarray:
    n = -(-len(samples) // FRAME)
    audio = np.zeros(n * FRAME + CONTEXT, np.float32)
    audio[CONTEXT:CONTEXT + len(samples)] = samples
    state = np.zeros((2, 1, 128), np.float32)
    rate = np.array(RATE, np.int64)
    probs = np.empty(n, np.float32)
    total = len(samples) / RATE
    step = max(1, int(10 / FRAME_S))  # report every 10 s of audio
    for i in range(n):
        chunk = audio[i * FRAME: i * FRAME + FRAME + CONTEXT][None, :]
        out, state = model.run(None, {"input": chunk, "state": state, "sr": rate})
        probs[i] = out[0, 0]
        if i % step == step - 1:
            on_progress(Progress(task, min(total, (i + 1) * FRAME_S), total, "s"))
    on_progress(Progress(task, total, total, "s"))
    return probs


def speech_regions(probs: np.ndarray, threshold: float = 0.5, min_speech_s: float = 0.25,
                   min_silence_s: float = 0.3, pad_s: float = 0.05,
                   duration_s: float | None = None) -> list[tuple[float, float]]:
    """(start, end) seconds of speech: runs above ``threshold``, closed by ``min_silence_s`` below
    ``threshold - 0.15``, shorter runs than ``min_speech_s`` dropped, ``pad_s`` added each side."""
    low = max(0.01, threshold - 0.15)
    end_limit = duration_s if duration_s is not None else len(probs) * FRAME_S
    quiet_frames = max(1, round(min_silence_s / FRAME_S))
    runs: list[tuple[int, int]] = []
    start: int | None = None
    quiet = 0
    for i, p in enumerate(probs):
        if start is None:
            if p >= threshold:
                start, quiet = i, 0
        elif p < low:
            quiet += 1
            if quiet >= quiet_frames:
                runs.append((start, i - quiet + 1))
                start = None
        else:
            quiet = 0
    if start is not None:
        runs.append((start, len(probs) - quiet))
    regions = []
    for a, b in runs:
        if (b - a) * FRAME_S < min_speech_s:
            continue
        s = max(0.0, a * FRAME_S - pad_s)
        e = min(end_limit, b * FRAME_S + pad_s)
        if regions and s <= regions[-1][1]:  # padding made two regions touch
            regions[-1] = (regions[-1][0], e)
        else:
            regions.append((s, e))
    return [(round(s, 3), round(e, 3)) for s, e in regions]
