"""Spoken and heard back: Piper reads the LJ Speech transcripts, Whisper transcribes them (WER),
and the transcribe CLI as a user runs it."""

from __future__ import annotations

import json

import pytest

from animstudio.voice.engines.kokoro import KokoroEngine
from animstudio.voice.engines.piper import PiperEngine
from animstudio.voice.qa import SAMPLE_LINES, corpus_wer, hear_back
from animstudio.voice.wer import wer
from conftest import run_cli


def round_trip(engine, lines, language):
    """Corpus WER (all word errors over all reference words) of every line spoken and heard back."""
    checks = [hear_back(engine.synthesize(text, language=language), text) for text in lines]
    return corpus_wer(checks), [c.heard for c in checks]


@pytest.mark.slow
@pytest.mark.parametrize("engine", [PiperEngine, KokoroEngine])
def test_ljspeech_transcripts_come_back_within_10_percent_wer(engine, voice_warehouse, shared_data, monkeypatch,
                                                              tmp_path):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(voice_warehouse))
    lines = [row.split("|")[2] for row in (shared_data / "speech" / "ljspeech" / "metadata.csv").read_text(
        encoding="utf-8").splitlines() if row.strip()]
    rate, heard = round_trip(engine(), lines, "en")
    assert rate <= 0.10, (rate, heard)


@pytest.mark.slow
def test_ten_italian_sentences_come_back_within_20_percent_wer(voice_warehouse, monkeypatch, tmp_path):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(voice_warehouse))
    rate, heard = round_trip(KokoroEngine(), SAMPLE_LINES["it"], "it")
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
    assert bad.returncode == 2 and "'srt', 'vtt', 'json'" in bad.stderr
