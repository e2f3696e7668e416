"""The piper engine on its catalog voice: audio, phoneme timings, prosody, the say CLI, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from animstudio.errors import InvalidInputError
from animstudio.voice.base import Prosody
from animstudio.voice.engines.piper import PiperEngine
from animstudio.voice.pitch import median_f0
from conftest import run_cli


@pytest.fixture(scope="module")
def voice_home(tmp_path_factory):
    return tmp_path_factory.mktemp("voice-models")


@pytest.fixture
def piper(voice_home, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(voice_home))
    return PiperEngine()


def test_speech_with_phoneme_timings(piper):
    speech = piper.synthesize("Printing, in the only sense with which we are at present concerned.")
    assert speech.sample_rate == 22050 and 2.0 < speech.duration_s < 6.0
    assert np.abs(speech.audio).max() > 0.5
    starts = [p.start_s for p in speech.phonemes]
    assert len(speech.phonemes) > 40 and starts == sorted(starts)
    assert all(p.end_s > p.start_s for p in speech.phonemes) and speech.phonemes[-1].end_s <= speech.duration_s


def test_rate_and_pitch(piper):
    from animstudio.voice.base import Speech
    from animstudio.voice.effects import shift_pitch

    # Piper samples durations and intonation, so two takes differ; without that variation every take is the same
    steady = PiperEngine(noise_scale=0, noise_w_scale=0)
    base = steady.synthesize("Look at that rabbit over there.")
    assert np.array_equal(base.audio, steady.synthesize("Look at that rabbit over there.").audio)
    fast = steady.synthesize("Look at that rabbit over there.", prosody=Prosody(rate=1.5))
    assert fast.duration_s < base.duration_s * 0.8
    shifted = shift_pitch(base.audio, base.sample_rate, 4.0)     # the same take, 4 semitones up
    assert abs(len(shifted) - len(base.audio)) < base.sample_rate * 0.02
    assert _median_f0(Speech(shifted, base.sample_rate)) > _median_f0(base) * 1.15


def _median_f0(speech) -> float:
    return median_f0(speech.audio, speech.sample_rate)


def test_bad_input(piper):
    with pytest.raises(InvalidInputError, match="no text"):
        piper.synthesize("   ")
    with pytest.raises(InvalidInputError, match="known voices: en_US-joe-medium"):
        piper.synthesize("Hello", voice="it_IT-nobody")


def test_say_cli(voice_home, tmp_path):
    out = tmp_path / "line.wav"
    proc = run_cli("voice", "say", "Hello there.", "-o", str(out), "--json", env={"ANIMSTUDIO_MODELS": str(voice_home)})
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    audio, sr = sf.read(out)
    assert sr == 22050 and len(audio) / sr == pytest.approx(info["duration_s"], abs=0.01)
    assert info["phonemes"][0]["start"] >= 0
    bad = run_cli("voice", "say", "Hi", "-o", str(tmp_path / "x.wav"), "--engine", "nope")
    assert bad.returncode == 1 and "nope" in bad.stderr
