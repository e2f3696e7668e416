"""Spoken and heard back: Piper reads the LJ Speech transcripts, Whisper transcribes them (WER),
and the transcribe CLI as a user runs it."""

from __future__ import annotations

import json

import pytest

from animstudio.voice.asr import get_transcriber
from animstudio.voice.engines.kokoro import KokoroEngine
from animstudio.voice.engines.piper import PiperEngine
from animstudio.voice.wer import wer, wer_detail
from conftest import run_cli

ITALIAN = [
    "Domani andiamo al mare con tutta la famiglia.",
    "Il gatto dorme sul divano vicino alla finestra.",
    "Questa sera mangiamo la pizza in piazza.",
    "Mia nonna prepara il caffè ogni mattina.",
    "La stazione è lontana, prendiamo un taxi.",
    "Il museo apre alle nove e chiude alle sei.",
    "Ho comprato del pane fresco al mercato.",
    "Il treno per Firenze parte tra dieci minuti.",
    "Le montagne sono coperte di neve in inverno.",
    "Grazie mille, siete stati molto gentili.",
]


def corpus_wer(engine, lines, language, tmp_path):
    """All word errors over all reference words, each line spoken and heard back by whisper-base."""
    ears = get_transcriber()
    errors = words = 0
    heard_all = []
    for text in lines:
        speech = engine.synthesize(text, language=language)
        heard = ears.transcribe(speech.write(tmp_path / "line.wav"), language=language).text
        detail = wer_detail(text, heard, language)
        errors, words = errors + detail.errors, words + detail.reference_words
        heard_all.append(heard)
    return errors / words, heard_all


@pytest.mark.slow
@pytest.mark.parametrize("engine", [PiperEngine, KokoroEngine])
def test_ljspeech_transcripts_come_back_within_10_percent_wer(engine, voice_warehouse, shared_data, monkeypatch,
                                                              tmp_path):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(voice_warehouse))
    lines = [row.split("|")[2] for row in (shared_data / "speech" / "ljspeech" / "metadata.csv").read_text(
        encoding="utf-8").splitlines() if row.strip()]
    rate, heard = corpus_wer(engine(), lines, "en", tmp_path)
    assert rate <= 0.10, (rate, heard)


@pytest.mark.slow
def test_ten_italian_sentences_come_back_within_20_percent_wer(voice_warehouse, monkeypatch, tmp_path):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(voice_warehouse))
    rate, heard = corpus_wer(KokoroEngine(), ITALIAN, "it", tmp_path)
    assert rate <= 0.20, (rate, heard)


def test_transcribe_cli(whisper_warehouse, shared_data, tmp_path):
    env = {"ANIMSTUDIO_MODELS": str(whisper_warehouse)}
    jfk = str(shared_data / "speech" / "faster_whisper" / "jfk.flac")
    proc = run_cli("voice", "transcribe", jfk, "--format", "json", env=env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert wer("And so my fellow Americans, ask not what your country can do for you, ask what you can do for "
               "your country.", data["text"]) <= 0.05
    assert data["segments"][0]["words"][0]["start"] >= 0
    srt = tmp_path / "jfk.srt"
    assert run_cli("voice", "transcribe", jfk, "-f", "srt", "-o", str(srt), env=env).returncode == 0
    assert "-->" in srt.read_text(encoding="utf-8")
    bad = run_cli("voice", "transcribe", jfk, "-f", "doc", env=env)
    assert bad.returncode == 1 and "srt, vtt or json" in bad.stderr
