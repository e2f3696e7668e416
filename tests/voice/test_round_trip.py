"""Spoken and heard back: Piper reads the LJ Speech transcripts, Whisper transcribes them (WER),
and the transcribe CLI as a user runs it."""

from __future__ import annotations

import json

import pytest

from animstudio.voice.asr import get_transcriber
from animstudio.voice.engines.piper import PiperEngine
from animstudio.voice.wer import wer, wer_detail
from conftest import run_cli


@pytest.mark.slow
@pytest.mark.xfail(strict=False, reason="known gap: whisper-base hears Piper's joe voice at 11-14 % corpus WER on "
                                        "these transcripts (goal 10 %)")
def test_piper_reads_ljspeech_transcripts_back_within_10_percent_wer(whisper_warehouse, shared_data, monkeypatch,
                                                                        tmp_path):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(whisper_warehouse))
    lines = [row.split("|")[2] for row in (shared_data / "speech" / "ljspeech" / "metadata.csv").read_text(
        encoding="utf-8").splitlines() if row.strip()]
    piper, ears = PiperEngine(), get_transcriber()
    errors = words = 0
    heard_all = []
    for text in lines:
        speech = piper.synthesize(text)
        heard = ears.transcribe(speech.write(tmp_path / "line.wav"), language="en").text
        detail = wer_detail(text, heard)
        errors, words = errors + detail.errors, words + detail.reference_words
        heard_all.append(heard)
    assert errors / words <= 0.10, (errors / words, heard_all)   # corpus WER: all errors over all words


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
