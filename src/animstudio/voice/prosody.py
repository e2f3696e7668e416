"""Emotions and line markup: how a line is spoken, engine by engine.

Presets map an emotion to rate, pitch, energy and pauses (the controls every engine has, plus
post-processing where it has none). Markup inside a line switches emotion, adds pauses and
stresses words:

    speak(engine, "[excited] Look at that! [pause 0.4] *Wow*.")
    parse("[sad] I lost it. [pause 1] Again.")   # [Part('I lost it.', 'sad'), Pause(1.0), Part('Again.', 'sad')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from animstudio.errors import InvalidInputError
from animstudio.voice.base import Prosody, Speech, Timed, TTSEngine

PRESETS: dict[str, Prosody] = {
    "neutral": Prosody(),
    "happy": Prosody(rate=1.08, pitch_semitones=2.0, energy=1.1),
    "sad": Prosody(rate=0.82, pitch_semitones=-2.0, energy=0.75, pause_after_s=0.2),
    "angry": Prosody(rate=1.1, pitch_semitones=1.0, energy=1.35),
    "excited": Prosody(rate=1.22, pitch_semitones=3.0, energy=1.25),
    "whisper": Prosody(rate=0.95, pitch_semitones=-1.0, energy=0.45),
    "scared": Prosody(rate=1.15, pitch_semitones=2.5, energy=0.85),
    "sarcastic": Prosody(rate=0.9, pitch_semitones=-1.0, energy=1.0, pause_before_s=0.15),
}
STRESS = {"rate": 0.9, "pitch_semitones": 1.5, "energy": 1.25}   # a *stressed* word, relative to its line
TOKEN = re.compile(r"\[([^\]]*)\]|\*([^*]+)\*|([^\[*]+)")


@dataclass
class Part:
    text: str
    emotion: str
    stressed: bool = False


@dataclass
class Pause:
    seconds: float


def preset(emotion: str) -> Prosody:
    if emotion not in PRESETS:
        raise InvalidInputError(f"unknown emotion {emotion!r}; use one of: {', '.join(PRESETS)}")
    return PRESETS[emotion]


def parse(line: str, emotion: str = "neutral") -> list[Part | Pause]:
    """The parts of a marked-up line: ``[emotion]``, ``[pause SECONDS]``, ``*stressed words*``."""
    preset(emotion)
    parts: list[Part | Pause] = []
    for tag, stressed, plain in TOKEN.findall(line):
        if tag:
            words = tag.strip().lower().split()
            if words and words[0] == "pause":
                try:
                    seconds = float(words[1]) if len(words) > 1 else 0.5
                except ValueError as exc:
                    raise InvalidInputError(f"[{tag}]: a pause is [pause SECONDS], e.g. [pause 0.4]") from exc
                if not 0 <= seconds <= 10:
                    raise InvalidInputError(f"[{tag}]: pauses are 0 to 10 seconds")
                parts.append(Pause(seconds))
            else:
                emotion = " ".join(words)
                preset(emotion)   # an unknown emotion names the known ones
        elif stressed.strip():
            parts.append(Part(stressed.strip(), emotion, stressed=True))
        elif plain.strip():
            if any(c.isalnum() for c in plain) or not parts or not isinstance(parts[-1], Part):
                parts.append(Part(plain.strip(), emotion))
            else:   # punctuation alone ends the words before it
                parts[-1].text += plain.strip()
    if not any(isinstance(p, Part) for p in parts):
        raise InvalidInputError("there is no text to speak in that line; markup alone says nothing")
    return parts


def plain_text(line: str) -> str:
    """The words of a marked-up line, without ``[emotion]``, ``[pause S]`` or ``*stress*`` marks."""
    return " ".join(p.text for p in parse(line) if isinstance(p, Part))


def _combined(base: Prosody, emotion: str, stressed: bool) -> Prosody:
    e = preset(emotion)
    rate = base.rate * e.rate * (STRESS["rate"] if stressed else 1.0)
    pitch = base.pitch_semitones + e.pitch_semitones + (STRESS["pitch_semitones"] if stressed else 0.0)
    energy = base.energy * e.energy * (STRESS["energy"] if stressed else 1.0)
    return Prosody(rate=min(max(rate, 0.3), 4.0), pitch_semitones=max(-12.0, min(12.0, pitch)),
                   energy=min(energy, 4.0), pause_before_s=e.pause_before_s, pause_after_s=e.pause_after_s)


def speak(engine: TTSEngine, line: str, voice: str | None = None, emotion: str = "neutral",
          base: Prosody | None = None, language: str | None = None) -> Speech:
    """One line with its markup and emotion, as one continuous Speech (timings shifted to match)."""
    base = base or Prosody()
    audio: list[np.ndarray] = []
    phonemes: list[Timed] = []
    words: list[Timed] = []
    rate = 0
    t = 0.0
    spoken = ""
    pending_pause = 0.0
    for part in parse(line, emotion):
        if isinstance(part, Pause):
            pending_pause += part.seconds
            continue
        speech = engine.synthesize(part.text, voice=voice, prosody=_combined(base, part.emotion, part.stressed),
                                   language=language)
        rate, spoken = speech.sample_rate, speech.language
        gap = np.zeros(round(pending_pause * rate), np.float32)
        pending_pause = 0.0
        t += len(gap) / rate
        audio += [gap, speech.audio]
        phonemes += [Timed(p.text, round(p.start_s + t, 4), round(p.end_s + t, 4)) for p in speech.phonemes]
        words += [Timed(w.text, round(w.start_s + t, 4), round(w.end_s + t, 4)) for w in speech.words]
        t += speech.duration_s
    if pending_pause:
        audio.append(np.zeros(round(pending_pause * rate), np.float32))
    return Speech(np.concatenate(audio), rate, phonemes=phonemes, words=words, language=spoken)
