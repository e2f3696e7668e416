"""Lip sync for any recording: forced alignment against Piper's own timings, JFK, Italian, the preview, the CLI."""

from __future__ import annotations

import difflib
import json
import statistics

import numpy as np
import pytest
import soundfile as sf
import typer
from typer.testing import CliRunner

from animstudio.errors import InvalidInputError, StudioError
from animstudio.voice.base import Prosody, Timed
from animstudio.voice.lipsync import Cue, mouth_cues, shape_of
from conftest import SHARED_DATA, installed_warehouse

JFK = SHARED_DATA / "speech" / "faster_whisper" / "jfk.flac"
JFK_TEXT = ("And so my fellow Americans, ask not what your country can do for you, "
            "ask what you can do for your country.")
MOUTHS = SHARED_DATA / "lipsync" / "mouth_shapes"


@pytest.fixture(scope="module")
def warehouse_dir(tmp_path_factory):
    pytest.importorskip("pocketsphinx")
    return installed_warehouse(tmp_path_factory, "piper-en_US-joe-medium", "whisper-base")


@pytest.fixture
def models(warehouse_dir, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(warehouse_dir))
    return warehouse_dir


def shape_at(cues: list[Cue], t: float) -> str:
    return next(c.shape for c in cues if c.start_s <= t < c.end_s)


def assert_valid(cues: list[Cue], duration: float) -> None:
    assert cues[0].shape == "X" and cues[-1].shape == "X"
    assert cues[0].start_s == 0 and cues[-1].end_s == pytest.approx(duration, abs=0.002)
    assert all(b.start_s == a.end_s and a.shape != b.shape for a, b in zip(cues, cues[1:], strict=False))


def piper_phones(phonemes: list[Timed]) -> list[Timed]:
    """Piper's phonemes as sounds: a stress mark starts the vowel after it, a length mark lengthens the
    one before it; word joints and punctuation are not sounds."""
    out: list[Timed] = []
    onset = None
    for p in phonemes:
        if p.text in ("ˈ", "ˌ"):
            onset = p.start_s if onset is None else onset
        elif p.text == "ː" and out:
            out[-1].end_s = p.end_s
        elif shape_of(p.text) != "X":
            out.append(Timed(p.text, p.start_s if onset is None else onset, p.end_s))
            onset = None
    return out


def boundary_agreement(a: list[Timed], b: list[Timed]) -> tuple[float, float, float]:
    """Both sequences as mouth shapes, matched in order (longest common runs); for every matched phoneme
    the difference of its start times. Returns (share of phonemes matched, median difference, share of
    differences within 50 ms)."""
    sa, sb = [shape_of(p.text) for p in a], [shape_of(p.text) for p in b]
    blocks = difflib.SequenceMatcher(None, sa, sb, autojunk=False).get_matching_blocks()
    diffs = [abs(a[m.a + k].start_s - b[m.b + k].start_s) for m in blocks for k in range(m.size)]
    return len(diffs) / max(len(a), len(b)), statistics.median(diffs), sum(d <= 0.05 for d in diffs) / len(diffs)


def test_forced_alignment_agrees_with_piper(models, tmp_path):
    from animstudio.voice.align import _decoder, forced_alignment
    from animstudio.voice.engines.piper import PiperEngine

    text = "Bob may have a big fluffy balloon, but Zorbik wants the blue one."
    assert _decoder().lookup_word("zorbik") is None    # not in the dictionary: pronounced by espeak-ng
    speech = PiperEngine().synthesize(text)
    wav = speech.write(tmp_path / "line.wav")
    aligned = forced_alignment(wav, text)
    matched, median, within = boundary_agreement(piper_phones(speech.phonemes), aligned)
    print(f"\nphoneme boundaries, Piper vs forced alignment: {matched:.0%} matched, median {median * 1000:.0f} ms, "
          f"{within:.0%} within 50 ms")
    assert matched >= 0.85 and median <= 0.05 and within >= 0.55
    for phonemes in (speech.phonemes, aligned):
        assert_valid(mouth_cues(phonemes, speech.duration_s), speech.duration_s)
    b = [p for p in aligned if p.text == "b"]
    said = [p for p in speech.phonemes if p.text == "b"]
    # Bob (2), big, balloon, but, Zorbik, blue; Piper's pause before the first word varies between runs,
    # so the first b is compared with where Piper put it
    assert len(b) == 7 and abs(b[0].start_s - said[0].start_s) < 0.1


def test_jfk_mouth_closes_on_the_m_sounds(shared_data):
    pytest.importorskip("pocketsphinx")
    from animstudio.voice.align import AlignmentError, forced_alignment, phoneme_timings

    cues = mouth_cues(phoneme_timings(JFK, JFK_TEXT), 11.0)
    assert_valid(cues, 11.0)
    # "my" is spoken from about 0.9 to 1.2 s, "fellow" from 1.2 s, "Americans" from 1.6 to 2.1 s (Whisper's
    # word times agree); then a pause of a second before "ask not"
    assert shape_at(cues, 1.00) == "A"       # m of "my"
    assert shape_at(cues, 1.30) == "G"       # f of "fellow"
    assert shape_at(cues, 1.72) == "A"       # m of "Americans"
    assert shape_at(cues, 2.70) == "X"       # the pause
    assert shape_at(cues, 0.10) == "X" and shape_at(cues, 10.8) == "X"
    with pytest.raises(AlignmentError, match="could not be aligned"):
        forced_alignment(JFK, "The quick brown fox jumps over the lazy dog.")


def test_italian_from_espeak_phonemes_and_word_times(models, tmp_path):
    from animstudio.voice.align import from_words, phoneme_timings
    from animstudio.voice.engines.espeak import EspeakEngine

    words = [Timed("Buongiorno", 0.20, 0.80), Timed("amici", 0.90, 1.30)]
    phonemes = from_words(words, "it")
    assert [p.text for p in phonemes if p.start_s < 0.8][:3] == ["b", "ʊ", "o"]
    assert phonemes[0].start_s == 0.2 and phonemes[-1].end_s == 1.3
    vowel, consonant = phonemes[1], phonemes[0]                  # ʊ, b
    assert vowel.end_s - vowel.start_s == pytest.approx(2 * (consonant.end_s - consonant.start_s), abs=0.002)

    # Whisper hears "Io mio amico..." in espeak-ng's robotic Italian: as many words as the text, so the
    # text's words are used (with Whisper's times), and "Il" is said with an l, not an o
    text = "Il mio amico parla molto bene."
    speech = EspeakEngine().synthesize(text, voice="it", prosody=Prosody(rate=0.85))
    wav = speech.write(tmp_path / "it.wav")
    with_text, recognised = phoneme_timings(wav, text, "it"), phoneme_timings(wav, None, "it")
    assert [shape_of(p.text) for p in with_text[:3]] == ["B", "H", "A"]           # i, l; m
    assert [shape_of(p.text) for p in recognised[:3]] == ["B", "F", "A"]          # i, o; m
    cues = mouth_cues(with_text, speech.duration_s)
    assert_valid(cues, speech.duration_s)
    assert {"A", "B", "D", "F", "H"} <= {c.shape for c in cues}    # m, i, a, o, l


def test_preview_is_frame_exact(tmp_path):
    if not MOUTHS.is_dir():
        pytest.skip(f"mouth drawings not found at {MOUTHS}")
    from PIL import Image

    from animstudio.media import probe, read_frame
    from animstudio.voice.preview import render_preview

    rate = 16000
    t = np.arange(2 * rate) / rate
    sf.write(tmp_path / "tone.wav", 0.3 * np.sin(2 * np.pi * 220 * t), rate)
    cues = [Cue(0.0, 0.5, "X"), Cue(0.5, 1.21, "D"), Cue(1.21, 1.6, "A"), Cue(1.6, 2.0, "X")]
    out = render_preview(cues, tmp_path / "tone.wav", tmp_path / "preview.mp4", shapes_dir=MOUTHS)
    info = probe(out)
    assert info.frame_count == 48 and info.fps == 24 and (info.width, info.height) == (408, 334)
    assert info.duration_s == pytest.approx(2.0, abs=0.05) and info.audio[0].codec == "aac"
    assert info.video_codec == "h264"

    def distance(time_s: float, shape: str) -> float:
        frame = read_frame(out, time_s).image.astype(int)
        drawing = np.asarray(Image.open(MOUTHS / f"lisa-{shape}.png").convert("RGB"), dtype=int)
        return float(np.abs(frame - drawing).mean())

    assert distance(0.8, "D") < 2 < distance(0.8, "A")
    assert distance(29 / 24, "A") < 2 < distance(28 / 24, "A")     # 1.21 s rounds to frame 29


def test_shape_folders(tmp_path):
    from animstudio.voice.preview import find_shapes

    for s in "ABC":
        (tmp_path / f"{s}.png").write_bytes(b"")
    with pytest.raises(InvalidInputError, match=r"no drawing for mouth shapes D, E, F"):
        find_shapes(tmp_path)
    for s in "DEF":
        (tmp_path / f"{s}.png").write_bytes(b"")
    shapes = find_shapes(tmp_path)                                 # G, H, X fall back as in Rhubarb
    assert shapes["G"].name == "B.png" and shapes["H"].name == "C.png" and shapes["X"].name == "A.png"
    with pytest.raises(InvalidInputError, match="does not exist"):
        find_shapes(tmp_path / "nope")


def _app() -> typer.Typer:
    from animstudio.cli.voice_lipsync import lipsync

    app = typer.Typer()
    app.command()(lipsync)
    app.command("other")(lambda: None)    # two commands: the app keeps the command's own name
    return app


def test_cli(shared_data, tmp_path):
    pytest.importorskip("pocketsphinx")
    runner = CliRunner()
    app = _app()
    out = tmp_path / "cues.json"
    result = runner.invoke(app, ["lipsync", str(JFK), "--text", JFK_TEXT, "-o", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert data["metadata"] == {"soundFile": "jfk.flac", "duration": 11.0}
    cues = data["mouthCues"]
    assert set(cues[0]) == {"start", "end", "value"} and cues[0]["value"] == cues[-1]["value"] == "X"
    assert cues[-1]["end"] == 11.0 and {c["value"] for c in cues} <= set("ABCDEFGHX")

    rate = 16000
    sf.write(tmp_path / "silence.wav", np.zeros(rate, np.float32), rate)
    (tmp_path / "mouths").mkdir()
    (tmp_path / "mouths" / "A.png").write_bytes(b"")
    bad = {
        "does not exist": [str(tmp_path / "missing.wav"), "--text", "hi", "-o", str(out)],
        "text is empty": [str(JFK), "--text", "  ", "-o", str(out)],
        "unknown cue format": [str(JFK), "--text", "hi", "-o", str(tmp_path / "cues.xml")],
        "no speech": [str(tmp_path / "silence.wav"), "--text", "hi", "-o", str(out)],
        "no drawing for mouth shapes B, C, D, E, F": [str(JFK), "-o", str(out), "--preview",
                                                      str(tmp_path / "p.mp4"), "--shapes", str(tmp_path / "mouths")],
    }
    for message, args in bad.items():
        result = runner.invoke(app, ["lipsync", *args])
        assert isinstance(result.exception, StudioError) and message in str(result.exception), (message, result)
        assert "\n" not in str(result.exception)
