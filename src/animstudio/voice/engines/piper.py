"""The ``piper`` engine: Piper VITS voices (ONNX) from the model catalog, with phoneme timings.

    speech = PiperEngine().synthesize("Look at that!", prosody=Prosody(rate=1.2))
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from pydantic import Field

from animstudio.errors import MissingDependencyError
from animstudio.models.loaded import LoadOnce
from animstudio.voice.base import Prosody, Speech, Timed, TTSEngine, check_text

CATALOG_VOICES = {"en_US-joe-medium": ("piper-en_US-joe-medium", ("en",))}



def _load_voice(name: str) -> Any:
    try:
        from piper import PiperVoice
    except ImportError as exc:
        raise MissingDependencyError.for_extra("piper-tts", "voice", "The piper engine") from exc
    from animstudio.models.install import ensure

    path = ensure(CATALOG_VOICES[name][0])
    return PiperVoice.load(path, config_path=f"{path}.json", include_alignments=True)


_VOICES: LoadOnce[str, Any] = LoadOnce(_load_voice, name=lambda voice: CATALOG_VOICES[voice][0])


class PiperEngine(TTSEngine):
    name = "piper"
    description = "Piper neural voices (ONNX, fast on CPU) with phoneme timings"
    languages: ClassVar[tuple[str, ...]] = ("en",)

    class Options(TTSEngine.Options):
        noise_scale: float | None = Field(None, ge=0, le=2, description="variation of the voice between takes "
                                                                       "(0: every take the same; default the voice's)")
        noise_w_scale: float | None = Field(None, ge=0, le=2, description="variation of phoneme lengths between "
                                                                         "takes (0: the same; default the voice's)")

    def voices(self) -> dict[str, tuple[str, ...]]:
        return {name: langs for name, (_, langs) in CATALOG_VOICES.items()}

    def synthesize(self, text: str, voice: str | None = None, prosody: Prosody | None = None,
                   language: str | None = None) -> Speech:
        text = check_text(text)
        name, language = self.check_voice(voice, language)
        with _VOICES.use(name) as pv:
            return self._speak(pv, text, name, language, prosody)

    def _speak(self, pv: Any, text: str, name: str, language: str, prosody: Prosody | None) -> Speech:
        from piper import SynthesisConfig

        p = prosody or Prosody()
        config = SynthesisConfig(length_scale=1.0 / p.rate, volume=min(1.0, 0.9 * p.energy), normalize_audio=True,
                                 noise_scale=self.options.noise_scale, noise_w_scale=self.options.noise_w_scale)
        rate = pv.config.sample_rate
        pieces: list[np.ndarray] = [np.zeros(round(p.pause_before_s * rate), np.float32)]
        phonemes: list[Timed] = []
        offset = p.pause_before_s
        for chunk in pv.synthesize(text, syn_config=config, include_alignments=True):
            audio = chunk.audio_float_array.astype(np.float32)
            t = offset
            for a in chunk.phoneme_alignments or []:
                length = a.num_samples / rate
                if a.phoneme not in ("^", "$", "_"):   # sentence start/end and padding marks
                    phonemes.append(Timed(a.phoneme, round(float(t), 4), round(float(t + length), 4)))
                t += length
            pieces.append(audio)
            offset += len(audio) / rate
        pieces.append(np.zeros(round(p.pause_after_s * rate), np.float32))
        samples = np.concatenate(pieces)
        if p.pitch_semitones:
            from animstudio.voice.effects import shift_pitch

            samples = shift_pitch(samples, rate, p.pitch_semitones)
        return Speech(samples, rate, phonemes=phonemes, language=language)
