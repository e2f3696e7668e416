"""The ``kokoro`` engine: Kokoro-82M (int8 ONNX, 24 kHz) from the model catalog, speaking espeak-ng IPA.

Its five voices speak English and Italian from espeak-ng's IPA (Debian package ``espeak-ng``); the
few symbols outside Kokoro's phoneme set are dropped. Long text is spoken in sentence chunks and
joined into one continuous result.

    speech = KokoroEngine().synthesize("Che bella giornata!", voice="jf_alpha", language="it")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from animstudio.errors import MissingDependencyError
from animstudio.models.loaded import LoadOnce
from animstudio.voice.base import Prosody, Speech, TTSEngine, check_text
from animstudio.voice.effects import finish
from animstudio.voice.phonemize import ipa
from animstudio.voice.text import chunks

MODEL = "kokoro-82m-int8"
SAMPLE_RATE = 24000
MAX_TOKENS = 510                # the style table has a row per token count up to this
VOICES = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")   # 4 female, 1 male
LANGUAGES = ("en", "it")
DEFAULT_VOICE = {"en": "jf_alpha", "it": "jm_kumo"}   # the clearest to Whisper in each language
SILENCE_BETWEEN_CHUNKS_S = 0.3   # a sentence pause: each chunk's own leading and trailing silence is cut
EDGE_S = 0.04                     # silence kept at a chunk's edges


def _trimmed(audio: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > 0.01 * max(float(np.abs(audio).max(initial=0.0)), 1e-6))
    if not len(loud):
        return audio
    edge = round(EDGE_S * SAMPLE_RATE)
    return audio[max(0, loud[0] - edge): loud[-1] + edge]



def _load_model(name: str) -> tuple[Any, dict[str, int], dict[str, Any]]:
    """The ONNX session, the phoneme vocabulary and the voices' style vectors (shared by every engine)."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise MissingDependencyError.for_extra("onnxruntime", "voice", "The kokoro engine") from exc
    from animstudio.media.ffmpeg import usable_cores
    from animstudio.models.install import ensure

    path = Path(ensure(name))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = usable_cores()
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    vocab = json.loads((path.parent / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    styles = np.load(path.parent / "voices_ja.npz")
    return session, vocab, {v: styles[v] for v in VOICES}


_MODEL: LoadOnce[str, tuple[Any, dict[str, int], dict[str, Any]]] = LoadOnce(_load_model)

class KokoroEngine(TTSEngine):
    name = "kokoro"
    description = "Kokoro-82M (ONNX): natural voices for English and Italian, 24 kHz"
    languages: ClassVar[tuple[str, ...]] = LANGUAGES

    def voices(self) -> dict[str, tuple[str, ...]]:
        return {v: LANGUAGES for v in VOICES}

    def check_voice(self, voice: str | None, language: str | None = None) -> tuple[str, str]:
        if voice is None:
            voice = DEFAULT_VOICE.get((language or "en").lower().split("-")[0])
        return super().check_voice(voice, language)

    def tokens(self, text: str, language: str) -> list[list[int]]:
        """Token ids of each chunk of ``text`` (each short enough for one pass of the model)."""
        with _MODEL.use(MODEL) as (_, vocab, _):
            return _tokens(vocab, text, language)

    def synthesize(self, text: str, voice: str | None = None, prosody: Prosody | None = None,
                   language: str | None = None) -> Speech:
        text = check_text(text)
        name, language = self.check_voice(voice, language)
        p = prosody or Prosody()
        gap = np.zeros(round(SILENCE_BETWEEN_CHUNKS_S * SAMPLE_RATE), np.float32)
        pieces: list[np.ndarray] = []
        with _MODEL.use(MODEL) as (session, vocab, styles):
            for ids in _tokens(vocab, text, language):
                style = styles[name][len(ids)].astype(np.float32)
                audio = session.run(None, {"tokens": np.array([[0, *ids, 0]], np.int64), "style": style,
                                           "speed": np.array([p.rate], np.float32)})[0]
                pieces += [gap, _trimmed(np.asarray(audio, np.float32).reshape(-1))]
        samples = np.concatenate(pieces[1:]) if pieces else np.zeros(0, np.float32)
        samples = finish(samples, SAMPLE_RATE, p.energy, p.pitch_semitones, p.pause_before_s, p.pause_after_s)
        return Speech(samples, SAMPLE_RATE, language=language)


def _tokens(vocab: dict[str, int], text: str, language: str) -> list[list[int]]:
    out: list[list[int]] = []
    for chunk in chunks(text, max_chars=300):
        ids = [vocab[c] for c in ipa(chunk, language) if c in vocab]   # symbols it lacks are dropped
        for start in range(0, len(ids), MAX_TOKENS - 2):
            if ids[start:start + MAX_TOKENS - 2]:
                out.append(ids[start:start + MAX_TOKENS - 2])
    return out
