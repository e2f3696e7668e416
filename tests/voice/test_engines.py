"""Kokoro and espeak-ng: languages, voices, what they say (heard back by Whisper), long and odd text."""

from __future__ import annotations

import numpy as np
import pytest

from animstudio.errors import InvalidInputError
from animstudio.voice.asr import get_transcriber
from animstudio.voice.base import Prosody
from animstudio.voice.engines.espeak import EspeakEngine
from animstudio.voice.engines.kokoro import KokoroEngine
from animstudio.voice.text import check_text, chunks
from animstudio.voice.wer import wer

ITALIAN = "Domani andiamo al mare con tutta la famiglia."


@pytest.fixture
def models(voice_warehouse, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(voice_warehouse))
    return voice_warehouse


def heard(speech, tmp_path, language):
    return get_transcriber().transcribe(speech.write(tmp_path / "line.wav"), language=language).text


def longest_silence_s(speech, threshold=0.01):
    frame = speech.sample_rate // 100
    loud = np.abs(speech.audio[: len(speech.audio) // frame * frame]).reshape(-1, frame).max(axis=1) > threshold
    longest = run = 0
    for is_loud in loud:
        run = 0 if is_loud else run + 1
        longest = max(longest, run)
    return longest / 100


def test_kokoro_speaks_english_and_italian(models, tmp_path):
    kokoro = KokoroEngine()
    assert kokoro.voices()["jm_kumo"] == ("en", "it") and len(kokoro.voices()) == 5
    english = kokoro.synthesize("Look at that, the rocket is already flying!", voice="jm_kumo")
    assert english.sample_rate == 24000 and english.language == "en"
    assert wer("Look at that, the rocket is already flying!", heard(english, tmp_path, "en")) <= 0.15
    italian = kokoro.synthesize(ITALIAN, language="it")
    assert italian.language == "it"
    assert wer(ITALIAN, heard(italian, tmp_path, "it"), "it") <= 0.2


@pytest.mark.slow
def test_kokoro_rate_and_long_text_in_one_piece(models):
    kokoro = KokoroEngine()
    line = "We are going to the seaside tomorrow."
    normal, fast = kokoro.synthesize(line), kokoro.synthesize(line, prosody=Prosody(rate=1.5))
    assert fast.duration_s < normal.duration_s * 0.8
    text = " ".join(f"Sentence number {i} of a long story, told without a break." for i in range(8))
    assert len(chunks(text, 300)) >= 2
    speech = kokoro.synthesize(text)
    assert 20 < speech.duration_s < 45 and longest_silence_s(speech) < 0.8


def test_espeak_languages_variants_and_errors():
    espeak = EspeakEngine()
    assert espeak.voices()["it"] == ("it",) and espeak.voices()["en"] == ("en",)
    speech = espeak.synthesize("Buongiorno a tutti.", voice="it+f3")
    assert speech.language == "it" and speech.sample_rate == 22050 and speech.duration_s > 0.8
    assert espeak.check_voice(None, "it") == ("it", "it")
    with pytest.raises(InvalidInputError, match="voices that can: .*en-us"):
        espeak.synthesize("Hello", voice="it", language="en")
    with pytest.raises(InvalidInputError, match="known variants: .*klatt"):
        espeak.synthesize("Hello", voice="en+nobody")
    with pytest.raises(InvalidInputError, match="known voices: .*en-us"):
        espeak.synthesize("Hello", voice="klingon")


def test_ten_thousand_characters_make_one_continuous_line():
    text = "The quick brown fox jumps over the lazy dog near the river bank. " * 154
    assert len(text) > 10_000
    assert all(len(c) <= 400 for c in chunks(text)) and " ".join(chunks(text)) == text.strip()
    speech = EspeakEngine().synthesize(text)
    assert speech.duration_s > 400 and longest_silence_s(speech) < 1.0


def test_emoji_and_symbols_are_not_read_aloud():
    assert check_text("Look 😀 at  that™!\n") == "Look at that !"
    espeak = EspeakEngine()
    plain, decorated = espeak.synthesize("Look at that!"), espeak.synthesize("Look 😀 at that™ !")
    assert abs(plain.duration_s - decorated.duration_s) < 0.05   # no "grinning face", no "trade mark"
    for empty in ("", "   ", "😀 🎉", "..."):
        with pytest.raises(InvalidInputError, match="no text to speak"):
            espeak.synthesize(empty)


def test_chunks_split_long_sentences_at_commas_then_spaces():
    sentence = ", ".join(["a clause of some words"] * 40) + "."
    parts = chunks(sentence, 100)
    assert all(len(p) <= 100 for p in parts) and " ".join(parts) == sentence
    assert chunks("One. Two! Three?", 8) == ["One.", "Two!", "Three?"]
