"""Who speaks when: Resemblyzer speaker embeddings of short windows, clustered without a speaker count.

Each 1.6 s window of speech gets a 256-number voice embedding (the Resemblyzer encoder, whose
weights ship in its wheel). Windows are grouped by average-linkage clustering on cosine distance,
cut where voices stop being alike, so the number of speakers comes from the audio.

    >>> enc = SpeakerEncoder()
    >>> vectors = enc.embed([samples[0:25600], samples[8000:33600]])   # (2, 256), unit length
    >>> labels = cluster(vectors)                                       # [0, 0]: one speaker
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from animstudio.errors import MissingDependencyError
from animstudio.models.loaded import LoadOnce
from animstudio.progress import Progress, ProgressCallback, ignore
from animstudio.voice.dataset.options import SAME_SPEAKER

RATE = 16000
WINDOW_S = 1.6            # the encoder's own partial-utterance length (160 frames of 10 ms)
N_FFT = 400               # 25 ms
HOP = 160                 # 10 ms
N_MELS = 40
WINDOW_FRAMES = 160
EMBEDDING = 256
TARGET_DBFS = -30.0       # quiet windows are raised to this level, as the encoder's training audio was

# Cosine similarities of 1.6 s window embeddings, measured on the shared speech recordings (LJ Speech,
# JFK, the two voices of the stereo diarization clip): one speaker's windows 0.51-0.97 (median
# 0.71-0.84), two speakers' windows 0.29-0.62; a window against its own speaker's mean voice at least
# 0.71, against another speaker's at most 0.65; windows where both voices of the stereo clip talk at
# once 0.63-0.72 to each. Whole utterances are steadier: one speaker ~0.93, two 0.47-0.65.
# SAME_SPEAKER (0.65, in options.py): average linkage joins groups of windows while they are this alike
SAME_VOICE = 0.72         # groups whose mean voices are this alike are one speaker. JFK with and without
                          # crowd noise: 0.75 (0.67 after AAC coding, which then splits him in two); the two
                          # voices of the stereo clip: 0.65-0.66. Alike voices and one voice in changing
                          # conditions overlap here; we err towards splitting a speaker, not merging two.
MIN_WINDOWS = 2           # a group of fewer windows is a stray sound, not a speaker
MAX_CLUSTERED = 4000      # beyond this many windows (about 27 min of speech), cluster an even sample of them
NEAR = 0.70               # a window less like every speaker than this is nobody's clear voice
MARGIN = 0.10             # ... or one this close to two speakers (both above SECOND): two voices at once
SECOND = 0.60
NAME_MATCH = 0.75         # a reference recording names the speaker whose mean voice is at least this alike


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """The Slaney mel scale: linear to 1 kHz, logarithmic above (the encoder's training features)."""
    hz = np.asarray(hz, np.float64)
    mel = hz / (200.0 / 3)
    log_part = hz >= 1000.0
    mel[log_part] = 15.0 + np.log(hz[log_part] / 1000.0) / (np.log(6.4) / 27.0)
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, np.float64)
    hz = mel * (200.0 / 3)
    log_part = mel >= 15.0
    hz[log_part] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel[log_part] - 15.0))
    return hz


def _mel_filters() -> np.ndarray:
    """(N_MELS, N_FFT // 2 + 1) triangular filters, each scaled to unit area (Slaney norm)."""
    fft_hz = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(np.array([0.0]))[0], _hz_to_mel(np.array([RATE / 2]))[0],
                                   N_MELS + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


_FILTERS = _mel_filters()
_HANN = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)  # periodic


def mel_frames(samples: np.ndarray) -> np.ndarray:
    """(frames, 40) mel power spectrogram, 25 ms windows every 10 ms, centred (reflect-padded)."""
    padded = np.pad(np.asarray(samples, np.float32), N_FFT // 2, mode="reflect")
    count = 1 + (len(padded) - N_FFT) // HOP
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(count)[:, None]
    spectrum = np.abs(np.fft.rfft(padded[idx] * _HANN, axis=1)) ** 2
    return (spectrum.astype(np.float32) @ _FILTERS.T).astype(np.float32)


def _raise_quiet(samples: np.ndarray) -> np.ndarray:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if rms <= 1e-6:
        return samples
    gain = 10 ** (TARGET_DBFS / 20) / rms
    return samples * gain if gain > 1 else samples


def _load_encoder(name: str) -> Any:
    """The GE2E speaker encoder with the catalog's weights: three LSTM layers over 40 mel bands, the last
    hidden state through a linear layer and a ReLU, scaled to unit length."""
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError.for_extra("torch", "voice", "Speaker embeddings") from exc
    from animstudio.models.install import ensure

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(N_MELS, EMBEDDING, num_layers=3, batch_first=True)
            self.linear = torch.nn.Linear(EMBEDDING, EMBEDDING)

        def forward(self, mels: Any) -> Any:
            _, (hidden, _) = self.lstm(mels)
            embedding = torch.relu(self.linear(hidden[-1]))
            return embedding / torch.linalg.vector_norm(embedding, dim=1, keepdim=True).clamp_min(1e-8)

    state = torch.load(ensure(name), map_location="cpu", weights_only=True)
    state = state.get("model_state", state)
    encoder = Encoder()
    encoder.load_state_dict({k: v for k, v in state.items() if not k.startswith("similarity_")})
    return encoder.eval()


_ENCODER: LoadOnce[str, Any] = LoadOnce(_load_encoder)


class SpeakerEncoder:
    """Voice embeddings of 1.6 s windows of 16 kHz mono audio (the model loads on first use)."""

    def embed(self, windows: Sequence[np.ndarray], batch: int = 64, on_progress: ProgressCallback = ignore,
              task: str = "speaker embeddings") -> np.ndarray:
        """(len(windows), 256) unit vectors; each window is cut or zero-padded to 1.6 s."""
        import torch

        n = int(WINDOW_S * RATE)
        out = np.empty((len(windows), 256), np.float32)
        with _ENCODER.use("resemblyzer-encoder") as encoder:
            for start in range(0, len(windows), batch):
                chunk = windows[start:start + batch]
                mels = np.empty((len(chunk), WINDOW_FRAMES, N_MELS), np.float32)
                for i, w in enumerate(chunk):
                    w = np.asarray(w, np.float32)[:n]
                    w = _raise_quiet(np.pad(w, (0, n - len(w))) if len(w) < n else w)
                    mels[i] = mel_frames(w)[:WINDOW_FRAMES]
                with torch.inference_mode():
                    out[start:start + len(chunk)] = encoder(torch.from_numpy(mels)).numpy()
                on_progress(Progress(task, start + len(chunk), len(windows), "windows"))
        return out

    def embed_recording(self, samples: np.ndarray, hop_s: float = 0.8) -> np.ndarray:
        """One unit vector for a whole recording of one voice: the mean of its windows' embeddings."""
        n, hop = int(WINDOW_S * RATE), int(hop_s * RATE)
        starts = range(0, max(1, len(samples) - n + hop), hop)
        vectors = self.embed([samples[s:s + n] for s in starts])
        return unit(vectors.mean(axis=0))


def unit(v: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(norm, 1e-9)


def cluster(vectors: np.ndarray, same_speaker: float = SAME_SPEAKER) -> np.ndarray:
    """Cluster labels 0..k-1 (0 = the largest cluster) from average-linkage clustering on cosine
    distance, merging while the clusters' mean similarity is at least ``same_speaker``."""
    n = len(vectors)
    if n == 0:
        return np.zeros(0, int)
    if n == 1:
        return np.zeros(1, int)
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    distances = np.clip(pdist(unit(vectors.astype(np.float64)), "cosine"), 0.0, 2.0)
    tree = linkage(distances, method="average")
    raw = fcluster(tree, t=1.0 - same_speaker, criterion="distance")
    sizes = {label: int(np.sum(raw == label)) for label in set(raw.tolist())}
    order = sorted(sizes, key=lambda label: (-sizes[label], int(np.argmax(raw == label))))
    remap = {label: i for i, label in enumerate(order)}
    return np.array([remap[label] for label in raw.tolist()], int)


def _core_centroid(members: np.ndarray) -> np.ndarray:
    """The mean of the half of ``members`` nearest their mean: stray windows (a cough, a second
    voice) do not pull a speaker's voice towards them."""
    first = unit(members.mean(axis=0))
    sims = members @ first
    return unit(members[sims >= np.median(sims)].mean(axis=0))


def find_speakers(vectors: np.ndarray, same_speaker: float = SAME_SPEAKER,
                  same_voice: float = SAME_VOICE) -> tuple[np.ndarray, np.ndarray]:
    """(labels, voices): each window's speaker 0..k-1 (0 = most windows) and each speaker's unit
    mean voice. Windows are clustered, groups with alike mean voices joined, and every window then
    given to the speaker whose voice it is most like."""
    sample = vectors[:: max(1, -(-len(vectors) // MAX_CLUSTERED))]  # every window, or an even sample of a long film
    labels = cluster(sample, same_speaker)
    while True:
        voices = np.stack([_core_centroid(sample[labels == i]) for i in range(int(labels.max()) + 1)])
        sims = voices @ voices.T
        np.fill_diagonal(sims, -1.0)
        a, b = np.unravel_index(int(np.argmax(sims)), sims.shape)
        if len(voices) < 2 or sims[a, b] < same_voice:
            break
        labels[labels == max(a, b)] = min(a, b)
        labels[labels > max(a, b)] -= 1
    if len(voices) > 1:  # a lone window is a stray sound: it goes to the most alike speaker
        sizes = np.bincount(labels, minlength=len(voices))
        keep = sizes >= MIN_WINDOWS
        voices = voices[keep] if keep.any() else voices
    labels = np.argmax(vectors @ voices.T, axis=1)
    kept = sorted(set(labels.tolist()), key=lambda i: -int(np.sum(labels == i)))
    labels = np.array([kept.index(i) for i in labels.tolist()], int)
    voices = np.stack([_core_centroid(vectors[labels == i]) for i in range(len(kept))])
    return labels, voices


def window_verdicts(vectors: np.ndarray, voices: np.ndarray, others: Sequence[str] = ()) -> list[tuple[int, str]]:
    """For each window (speaker, "") when it is clearly one speaker's voice, else (-1, why).

    ``voices`` may end with the voices of ``others``: references that are no speaker here (they
    never talk alone) but whose voice still marks a window where it mixes with a speaker's."""
    speakers = len(voices) - len(others)
    sims = vectors @ voices.T
    out: list[tuple[int, str]] = []
    for row in sims:
        order = np.argsort(-row)
        best = float(row[order[0]])
        second = float(row[order[1]]) if len(order) > 1 else -1.0
        if best < NEAR:
            out.append((-1, f"overlapping speech or an unclear voice (at most {best:.2f} alike to any speaker)"))
        elif second >= SECOND and best - second < MARGIN:
            out.append((-1, f"overlapping speech (alike to two voices: {best:.2f} and {second:.2f})"))
        elif order[0] >= speakers:
            out.append((-1, f"the voice of {others[order[0] - speakers]} ({best:.2f} alike), which is not "
                            f"alone long enough to be a speaker"))
        else:
            out.append((int(order[0]), ""))
    return out


def match_names(references: dict[str, np.ndarray], voices: np.ndarray,
                threshold: float = NAME_MATCH) -> tuple[dict[int, tuple[str, float]], dict[str, tuple[int, float]]]:
    """Pair reference voices with speakers, most alike first, one name per speaker.

    Returns ({speaker: (name, similarity)}, {name: (closest speaker, similarity)} for the names
    whose reference is not alike enough to any free speaker)."""
    pairs = sorted(((float(vec @ voices[i]), name, i) for name, vec in references.items()
                    for i in range(len(voices))), reverse=True)
    named: dict[int, tuple[str, float]] = {}
    used: set[str] = set()
    for sim, name, i in pairs:
        if name in used or i in named or sim < threshold:
            continue
        named[i] = (name, sim)
        used.add(name)
    unmatched = {}
    for name, vec in references.items():
        if name not in used:
            sims = voices @ vec if len(voices) else np.zeros(0)
            best = int(np.argmax(sims)) if len(sims) else -1
            unmatched[name] = (best, float(sims[best]) if best >= 0 else 0.0)
    return named, unmatched
