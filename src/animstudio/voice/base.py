"""The text-to-speech interface: ``synthesize(text, voice, prosody) -> Speech``.

A ``Speech`` holds float32 mono samples, the sample rate, and where the engine knows them, the
time of every phoneme (and word), which lip sync and captions use.

    speech = get_backend("tts_engine", "piper")().synthesize("Hello there.", voice="en_US-joe-medium")
    speech.duration_s, speech.phonemes[:3]        # 1.1, [Timed('h', 0.05, 0.11), ...]
    speech.write("hello.wav")
"""

from __future__ import annotations

import os
from abc import abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, ClassVar

import numpy as np
from pydantic import BaseModel, Field

from animstudio.backend import Backend
from animstudio.errors import InvalidInputError
from animstudio.voice.text import check_text as check_text  # engines import it from here


@dataclass
class Timed:
    """A phoneme or word with its time in the audio."""

    text: str
    start_s: float
    end_s: float


@dataclass
class Speech:
    audio: np.ndarray                     # float32 mono, -1..1
    sample_rate: int
    phonemes: list[Timed] = field(default_factory=list)
    words: list[Timed] = field(default_factory=list)
    language: str = ""

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate

    def write(self, path: str | os.PathLike[str]) -> Path:
        """A 16-bit WAV (or FLAC, Ogg Vorbis, MP3: the format its suffix names), written to a temp file
        and renamed."""
        import soundfile as sf

        from animstudio.files import atomic_output

        fmt, subtype = audio_format(path)
        with atomic_output(path, "speech") as tmp:
            sf.write(str(tmp), self.audio, self.sample_rate, subtype=subtype, format=fmt)
        return Path(path)


AUDIO_FORMATS = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS"),
                 ".mp3": ("MP3", "MPEG_LAYER_III")}   # suffix -> soundfile format and subtype


def audio_format(path: str | os.PathLike[str]) -> tuple[str, str]:
    """The soundfile ``(format, subtype)`` that ``path``'s suffix names; another suffix is a one-line error."""
    import soundfile as sf

    suffix = Path(path).suffix.lower()
    if suffix not in AUDIO_FORMATS:
        found = f"is named {suffix}" if suffix else "has no suffix"
        raise InvalidInputError(f"speech {Path(path).name} {found}; name it .wav, .flac, .ogg or .mp3 "
                                f"(the suffix picks the format)")
    fmt, subtype = AUDIO_FORMATS[suffix]
    if fmt not in sf.available_formats() or subtype not in sf.available_subtypes(fmt):
        raise InvalidInputError(f"this installation's libsndfile cannot write {suffix} files; name the output "
                                f".wav, or update the Python package soundfile")
    return fmt, subtype


Rate = Annotated[float, Field(gt=0.25, le=4.0)]           # a speaking rate, 1 = the voice's own
Semitones = Annotated[float, Field(ge=-12, le=12)]        # a pitch shift


class Prosody(BaseModel):
    """How a line is spoken: relative rate and pitch, energy, and silence around it."""

    rate: Rate = Field(1.0, description="speaking rate (1 = the voice's own)")
    pitch_semitones: Semitones = 0.0
    energy: float = Field(1.0, gt=0, le=4.0, description="loudness factor")
    pause_before_s: float = Field(0.0, ge=0, le=10)
    pause_after_s: float = Field(0.0, ge=0, le=10)


class TTSEngine(Backend):
    """A text-to-speech engine (registered through the ``register_tts_engines`` hook)."""

    languages: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def synthesize(self, text: str, voice: str | None = None, prosody: Prosody | None = None,
                   language: str | None = None) -> Speech:
        """Speak ``text`` with ``voice`` (the engine's default when None) in ``language`` (the voice's first)."""

    def voices(self) -> dict[str, tuple[str, ...]]:
        """Voice name -> the language codes it speaks, its own first."""
        return {}

    def check_voice(self, voice: str | None, language: str | None = None) -> tuple[str, str]:
        """``(voice, language)`` to use; an unknown voice, or one that cannot speak ``language``, names those
        that can."""
        voices = self.voices()
        language = language.lower().split("-")[0] if language else None
        able = [v for v, langs in voices.items() if language is None or language in langs]
        if voice is None:
            if not able:
                spoken = sorted({lang for langs in voices.values() for lang in langs})
                raise InvalidInputError(f"{self.name} has no voice for language {language!r}; it speaks: "
                                        f"{', '.join(spoken) or 'nothing (no voice installed)'}")
            voice = able[0]
        if voice not in voices:
            raise InvalidInputError(f"unknown {self.name} voice {voice!r}; known voices: "
                                    f"{', '.join(sorted(voices)) or 'none'}")
        if language and language not in voices[voice]:
            raise InvalidInputError(f"{self.name} voice {voice!r} speaks {', '.join(voices[voice])}, not {language};"
                                    f" voices that can: {', '.join(able) or 'none in ' + self.name}")
        return voice, language or voices[voice][0]
