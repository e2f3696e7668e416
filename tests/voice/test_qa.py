"""Lines heard back: the word error rate of what an engine said, for one line and a voice check."""

from __future__ import annotations

import json

import pytest

from animstudio.voice.engines.kokoro import KokoroEngine
from animstudio.voice.qa import hear_back
from conftest import run_cli


@pytest.fixture
def models(voice_warehouse, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(voice_warehouse))
    return voice_warehouse


def test_a_line_heard_back_scores_the_words_not_the_markup(models):
    speech = KokoroEngine().synthesize("Look at that, the rocket is already flying!", voice="jm_kumo")
    check = hear_back(speech, "[excited] Look at that, [pause 0.2] the *rocket* is already flying!")
    assert check.text == "Look at that, the rocket is already flying!"
    assert check.wer <= 0.15 and "rocket" in check.heard.lower()
    dropped = hear_back(KokoroEngine().synthesize("Look at that!"), "Look at that, the rocket is flying!")
    assert dropped.detail.deletions >= 3   # what was never said shows up as deleted words


def test_voice_check_and_say_check_cli(models, tmp_path):
    env = {"ANIMSTUDIO_MODELS": str(models)}
    lines = tmp_path / "lines.txt"
    lines.write_text("Good morning, everybody.\n\nThe train leaves at noon.\n", encoding="utf-8")
    proc = run_cli("voice", "check", "--engine", "kokoro", "--lines", str(lines), "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["language"] == "en" and len(report["lines"]) == 2 and report["wer"] <= 0.2
    proc = run_cli("voice", "say", "Good morning, everybody.", "--engine", "kokoro", "-o", str(tmp_path / "a.wav"),
                   "--check", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["check"]["wer"] <= 0.2
    bad = run_cli("voice", "check", "--engine", "espeak", "--language", "sw", env=env)
    assert bad.returncode == 1 and "no sample lines in 'sw'" in bad.stderr and "--lines" in bad.stderr
