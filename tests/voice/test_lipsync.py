"""Mouth cues from phoneme timings: the shapes, smoothing, rest at both ends, the three formats."""

from __future__ import annotations

import json

from animstudio.voice.base import Timed
from animstudio.voice.lipsync import Cue, mouth_cues, shape_of, write_cues
from conftest import run_cli


def test_shapes_of_phonemes():
    assert [shape_of(p) for p in ("p", "m", "f", "l", "uː", "ɑ", "ɛ", "ˈi", "s", ".", " ")] == \
        ["A", "A", "G", "H", "F", "D", "C", "B", "B", "X", "X"]


def test_cues_are_smoothed_and_rest_at_both_ends():
    phonemes = [Timed("m", 0.10, 0.20), Timed("ɑ", 0.20, 0.40), Timed("t", 0.40, 0.42),   # a 20 ms flicker
                Timed("ɑ", 0.42, 0.60), Timed(".", 0.60, 0.70)]
    cues = mouth_cues(phonemes, 1.0)
    assert [c.shape for c in cues] == ["X", "A", "D", "X"]
    assert cues[0].start_s == 0 and cues[-1].end_s == 1.0
    assert all(b.start_s == a.end_s for a, b in zip(cues, cues[1:], strict=False))   # no holes


def test_writers(tmp_path):
    cues = [Cue(0.0, 0.1, "X"), Cue(0.1, 0.3, "A"), Cue(0.3, 0.5, "X")]
    tsv = write_cues(cues, tmp_path / "a.tsv").read_text()
    assert tsv.splitlines() == ["0.00\tX", "0.10\tA", "0.30\tX"]
    data = json.loads(write_cues(cues, tmp_path / "a.json", duration_s=0.5, sound_file="a.wav").read_text())
    assert data["metadata"] == {"soundFile": "a.wav", "duration": 0.5}
    assert data["mouthCues"][1] == {"start": 0.1, "end": 0.3, "value": "A"}
    assert write_cues(cues, tmp_path / "a.dat").read_text().splitlines() == ["MohoSwitch1", "1 X", "3 A", "8 X"]


def test_say_writes_cues_from_piper_timings(tmp_path, tmp_path_factory):
    env = {"ANIMSTUDIO_MODELS": str(tmp_path_factory.getbasetemp() / "voice-models")}
    out = tmp_path / "cues.json"
    proc = run_cli("voice", "say", "Bob may have a big fluffy balloon.", "-o", str(tmp_path / "l.wav"), "--cues",
                   str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    cues = json.loads(out.read_text())["mouthCues"]
    assert cues[0]["value"] == "X" and cues[-1]["value"] == "X"
    assert {"A", "F", "G"} <= {c["value"] for c in cues}               # b/m closed, oo, f
    assert all(c["end"] - c["start"] >= 0.03 for c in cues[1:-1])   # no flicker (40 ms, less the JSON rounding)
