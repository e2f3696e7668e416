"""Who speaks when, in a recording: voice activity (Silero VAD), speaker embeddings of short
windows of the speech, the windows clustered into speakers, and the speech cut into turns of one
voice (stretches where voices mix are turns of nobody's, speaker -1).

    found = diarize(samples)            # 16 kHz mono
    found.turns[0].speaker, found.turns[0].start_s, len(found.voices)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from animstudio.progress import ProgressCallback, ignore
from animstudio.voice.dataset.segments import Turn, turns, windows
from animstudio.voice.dataset.speakers import RATE, SAME_SPEAKER, SpeakerEncoder, find_speakers, window_verdicts
from animstudio.voice.dataset.vad import speech_probabilities, speech_regions

REGION_PAD_S = 0.1               # silence kept either side of speech


@dataclass
class Diarized:
    turns: list[Turn] = field(default_factory=list)          # in time order; speaker 0 speaks the most
    voices: np.ndarray = field(default_factory=lambda: np.zeros((0, 256), np.float32))   # each speaker's mean voice
    probs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))           # speech per 32 ms frame


def diarize(samples: np.ndarray, same_speaker: float = SAME_SPEAKER,
            on_progress: ProgressCallback = ignore) -> Diarized:
    """The speaker turns of 16 kHz mono ``samples`` (none when no speech is heard)."""
    duration = len(samples) / RATE
    probs = speech_probabilities(samples, on_progress)
    regions = speech_regions(probs, duration_s=duration, pad_s=REGION_PAD_S)
    if not regions:
        return Diarized(probs=probs)
    wins = windows(regions, duration)
    vectors = SpeakerEncoder().embed([samples[int(w.start_s * RATE): int(w.end_s * RATE)] for w in wins],
                                     on_progress=on_progress)
    _, voices = find_speakers(vectors, same_speaker)
    return Diarized(turns(regions, wins, window_verdicts(vectors, voices), probs), voices, probs)
