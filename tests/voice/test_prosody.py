"""Emotions and markup, measured on the audio: excited is faster and higher than sad."""

from __future__ import annotations

import pytest

from animstudio.errors import InvalidInputError
from animstudio.voice.engines.espeak import EspeakEngine
from animstudio.voice.engines.kokoro import KokoroEngine
from animstudio.voice.engines.piper import PiperEngine
from animstudio.voice.pitch import median_f0
from animstudio.voice.prosody import Part, Pause, parse, speak

LINE = "We are going to the seaside tomorrow, all of us together."


@pytest.fixture
def piper(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(tmp_path_factory.getbasetemp() / "voice-models"))
    return PiperEngine()


def test_markup():
    assert parse("[excited] Look at that! [pause 0.4] *Wow*.") == [
        Part("Look at that!", "excited"), Pause(0.4), Part("Wow.", "excited", stressed=True)]
    with pytest.raises(InvalidInputError, match="sad"):
        parse("[grumpy] Hm.")
    with pytest.raises(InvalidInputError, match="pause"):
        parse("[pause soon] Hm.")
    with pytest.raises(InvalidInputError, match="no text"):
        parse("[happy] [pause 1]")


@pytest.mark.parametrize("engine", [PiperEngine, KokoroEngine, EspeakEngine])
def test_excited_is_faster_and_higher_than_sad(engine, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(tmp_path_factory.getbasetemp() / "voice-models"))
    tts = PiperEngine(noise_scale=0, noise_w_scale=0) if engine is PiperEngine else engine()   # the same take each run
    excited, sad = speak(tts, LINE, emotion="excited"), speak(tts, LINE, emotion="sad")
    assert excited.duration_s < sad.duration_s * 0.8
    assert median_f0(excited.audio, excited.sample_rate) > median_f0(sad.audio, sad.sample_rate) * 1.1


def test_pauses_add_silence_and_timings_follow(piper):
    plain = speak(piper, "Wait. Now.")
    paused = speak(piper, "Wait. [pause 1.0] Now.")
    assert paused.duration_s > plain.duration_s + 0.8
    assert paused.phonemes[-1].end_s <= paused.duration_s + 1e-6
    gap = [b.start_s - a.end_s for a, b in zip(paused.phonemes, paused.phonemes[1:], strict=False)]
    assert max(gap) >= 0.9
