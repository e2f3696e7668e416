"""The ``espeak`` engine: espeak-ng (Debian package) in any of its ~130 languages, with its voice variants.

Robotic but instant, and the one engine that speaks nearly every language. A voice is an espeak-ng
language (``en-us``, ``it``) optionally with a variant after ``+`` (``en-us+Alicia``, ``it+f3``).

    speech = EspeakEngine().synthesize("Buongiorno a tutti.", voice="it")
"""

from __future__ import annotations

import functools
import subprocess
from typing import ClassVar

import numpy as np

from animstudio.errors import InvalidInputError
from animstudio.voice.base import Prosody, Speech, TTSEngine, check_text
from animstudio.voice.effects import finish
from animstudio.voice.phonemize import ESPEAK_VOICE, espeak_binary, espeak_languages

WORDS_PER_MINUTE = 175   # espeak-ng's own default rate
PITCH_PER_SEMITONE = 6   # espeak-ng's pitch (0-99, default 50) moves about a semitone per 6 steps


@functools.cache
def espeak_variants() -> tuple[str, ...]:
    out = subprocess.run([espeak_binary(), "--voices=variant"], capture_output=True, text=True, check=True).stdout
    return tuple(sorted({line.split()[4].split("/")[-1] for line in out.splitlines()[1:] if len(line.split()) > 4}))


class EspeakEngine(TTSEngine):
    name = "espeak"
    description = "espeak-ng: formant synthesis in ~130 languages, with voice variants"
    languages: ClassVar[tuple[str, ...]] = ()   # whatever the installed espeak-ng knows

    def voices(self) -> dict[str, tuple[str, ...]]:
        known = {code: (code.split("-")[0],) for code in espeak_languages()}
        return known | {code: (code,) for code, voice in ESPEAK_VOICE.items() if voice in known}   # `en` is en-us

    def check_voice(self, voice: str | None, language: str | None = None) -> tuple[str, str]:
        base, _, variant = (voice or "").partition("+")
        if variant and variant not in espeak_variants():
            raise InvalidInputError(f"unknown espeak-ng variant {variant!r}; known variants: "
                                    f"{', '.join(espeak_variants())}")
        if voice is None and language:
            voice = ESPEAK_VOICE.get(language.lower(), language.lower())
            base = voice
        name, language = super().check_voice(base or "en-us", language)
        return (f"{name}+{variant}" if variant else name), language

    def synthesize(self, text: str, voice: str | None = None, prosody: Prosody | None = None,
                   language: str | None = None) -> Speech:
        text = check_text(text)
        name, language = self.check_voice(voice, language)
        p = prosody or Prosody()
        pitch = min(99, max(0, round(50 + PITCH_PER_SEMITONE * p.pitch_semitones)))
        base, plus, variant = name.partition("+")
        cmd = [espeak_binary(), "--stdout", "-v", ESPEAK_VOICE.get(base, base) + plus + variant,
               "-s", str(round(WORDS_PER_MINUTE * p.rate)), "-p", str(pitch),
               "-a", str(min(200, round(100 * p.energy)))]
        proc = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True)
        if proc.returncode != 0 or b"data" not in proc.stdout[:200]:
            raise InvalidInputError(f"espeak-ng could not speak that line: "
                                    f"{proc.stderr.decode(errors='replace').strip()[:200] or 'no audio'}")
        rate = int.from_bytes(proc.stdout[24:28], "little")
        start = proc.stdout.index(b"data") + 8   # espeak-ng streams: the sizes in its header are placeholders
        body = proc.stdout[start:start + (len(proc.stdout) - start) // 2 * 2]
        samples = np.frombuffer(body, "<i2").astype(np.float32) / 32768.0
        samples = finish(samples, rate, pause_before_s=p.pause_before_s, pause_after_s=p.pause_after_s)
        return Speech(samples, rate, language=language)
