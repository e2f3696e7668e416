"""Who speaks in which shot, on real speech: JFK's line, then an LJ Speech reader's, then JFK's again,
laid under the sample clip's shots. Two voices come back, JFK's lines share one speaker, and each
line is placed in the shot it overlaps most."""

from __future__ import annotations

import pytest

pytest.importorskip("faster_whisper")


def test_lines_have_their_speaker_and_shot(dialogue_clip, whisper_warehouse, monkeypatch):
    from animstudio.analysis.scenes import Shot
    from animstudio.analysis.speech import spoken_lines

    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(whisper_warehouse))
    shots = [Shot(index=0, start_frame=0, end_frame=120, start_s=0.0, end_s=5.0),      # JFK 0.5-4.4 s
             Shot(index=1, start_frame=120, end_frame=240, start_s=5.0, end_s=10.0),   # the reader 4.9-8.9 s
             Shot(index=2, start_frame=240, end_frame=330, start_s=10.0, end_s=13.7)]  # JFK again 9.4-13.2 s
    lines = spoken_lines(dialogue_clip, shots, language="en")
    text = " ".join(line.text.lower() for line in lines)
    assert "fellow americans" in text and "your country" in text
    jfk = [line for line in lines if "americans" in line.text.lower() or "country" in line.text.lower()]
    reader = [line for line in lines if line not in jfk]
    assert jfk and reader and "printing" in reader[0].text.lower(), [(line.speaker, line.text) for line in lines]
    assert len({line.speaker for line in jfk}) == 1                       # JFK is one voice, twice
    assert {line.speaker for line in reader}.isdisjoint({jfk[0].speaker})  # the reader another
    assert jfk[0].shot == 0 and jfk[-1].shot == 2 and {line.shot for line in reader} == {1}
