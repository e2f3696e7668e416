"""Speech recognition with the real whisper-base model on real speech, and the word error rate."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from animstudio.voice.wer import normalise, wer, wer_detail
from conftest import run_cli

JFK_TEXT = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
JFK = Path(__file__).resolve().parents[3] / "shared" / "data" / "speech" / "faster_whisper" / "jfk.flac"


# ---------------------------------------------------------------- word error rate


def test_wer_identical_is_zero():
    assert wer(JFK_TEXT, JFK_TEXT) == 0.0
    assert wer("", "") == 0.0


def test_wer_one_substitution_in_four_words():
    assert wer("the cat sat down", "the dog sat down") == 0.25
    d = wer_detail("the cat sat down", "the dog sat down")
    assert (d.substitutions, d.deletions, d.insertions, d.reference_words) == (1, 0, 0, 4)


def test_wer_counts_deletions_and_insertions():
    d = wer_detail("a b c d", "a c d e f")
    assert (d.substitutions, d.deletions, d.insertions) == (0, 1, 2)
    assert d.wer == 0.75


def test_wer_ignores_punctuation_and_case():
    assert wer("Ask not, what YOUR country can do!", "ask not what your country can do") == 0.0
    assert wer("\u201cWell\u2014known\u201d \u2018quotes\u2019\u2026", "well known quotes") == 0.0
    assert normalise("  Hello,\tWORLD?!  ") == ["hello", "world"]


def test_normalise_keeps_italian_accents_and_numbers():
    assert normalise("Perché è già là? Città!", "it") == ["perché", "è", "già", "là", "città"]
    assert normalise("L\u2019amico", "it") == ["l", "amico"]
    assert wer("perché", "perche", "it") == 1.0  # an accent is part of the word
    assert normalise("Pagò 3,50 per 1000 e 23", "it") == ["pagò", "3,50", "per", "mille", "e", "ventitré"]


def test_english_numbers_are_scored_as_spoken():
    assert normalise("He paid 3.50 for 1,000 of them in 2024.") == (
        "he paid three point five zero for one thousand of them in twenty twenty four".split())
    assert wer("the fifteenth century, a forty-two-line Bible of about fourteen fifty-five",
               "The 15th century, a 42-line Bible of about 1455.") == 0.0
    assert normalise("the 1960s and the 2nd, 3rd and 101st") == (
        "the nineteen sixties and the second third and one hundred first".split())


# ---------------------------------------------------------------- transcription


@pytest.fixture
def models(whisper_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(whisper_warehouse))
    return whisper_warehouse


@pytest.fixture(scope="session")
def jfk(whisper_warehouse: Path):
    """The JFK clip transcribed once (with its progress events), shared by the tests that read it."""
    from animstudio.voice.asr import get_transcriber

    if not JFK.is_file():
        pytest.skip(f"real test media not found at {JFK}")
    before = os.environ.get("ANIMSTUDIO_MODELS")
    os.environ["ANIMSTUDIO_MODELS"] = str(whisper_warehouse)
    events = []
    try:
        transcript = get_transcriber().transcribe(JFK, language="en", on_progress=events.append)
    finally:
        if before is None:
            os.environ.pop("ANIMSTUDIO_MODELS", None)
        else:
            os.environ["ANIMSTUDIO_MODELS"] = before
    return transcript, events


def test_jfk_is_transcribed_within_five_percent_wer(jfk):
    transcript, _ = jfk
    assert transcript.language == "en"
    assert transcript.duration_s == pytest.approx(11.0, abs=0.1)
    assert transcript.segments
    assert wer(JFK_TEXT, transcript.text) <= 0.05, transcript.text


def test_word_timestamps_are_monotonic_and_inside_the_audio(jfk):
    transcript, _ = jfk
    words = [w for s in transcript.segments for w in s.words]
    assert len(words) >= 20
    assert wer(JFK_TEXT, " ".join(w.text for w in words)) <= 0.05
    for a, b in zip(words, words[1:], strict=False):
        assert a.start_s <= b.start_s
    for w in words:
        assert 0.0 <= w.start_s <= w.end_s <= transcript.duration_s
        assert 0.0 <= w.probability <= 1.0
    for s in transcript.segments:
        assert 0.0 <= s.start_s < s.end_s <= transcript.duration_s
        assert s.start_s <= s.words[0].start_s and s.words[-1].end_s <= s.end_s


def test_progress_reports_seconds_done(jfk):
    transcript, events = jfk
    assert len(events) >= 2 and all(e.unit == "s" and e.total == transcript.duration_s for e in events)
    done = [e.done for e in events]
    assert done == sorted(done) and done[0] == 0.0 and done[-1] == transcript.duration_s


def test_writes_srt_vtt_and_json(jfk, tmp_path):
    from animstudio.media.subtitles import read_subtitles
    from animstudio.voice.asr import write_transcript

    transcript, _ = jfk
    srt = write_transcript(transcript, tmp_path / "out" / "jfk.srt", "srt")
    cues = read_subtitles(srt)
    assert len(cues) == len(transcript.segments)
    assert wer(JFK_TEXT, " ".join(c.text for c in cues)) <= 0.05
    assert cues[0].start_s == pytest.approx(transcript.segments[0].start_s, abs=0.001)

    vtt = write_transcript(transcript, tmp_path / "jfk.vtt")  # format from the suffix
    assert vtt.read_text().startswith("WEBVTT")
    assert [c.text for c in read_subtitles(vtt)] == [c.text for c in cues]

    data = json.loads(write_transcript(transcript, tmp_path / "jfk.json", "json").read_text())
    assert set(data) == {"text", "language", "duration_s", "segments"}
    assert data["text"] == transcript.text and data["language"] == "en"
    word = data["segments"][0]["words"][0]
    assert set(word) == {"start", "end", "word", "probability"}
    assert set(data["segments"][0]) == {"start", "end", "text", "words"}
    assert not list(tmp_path.glob(".*.tmp*"))  # written atomically: no temp files left


def test_unknown_transcript_format_is_refused(tmp_path):
    from animstudio.errors import InvalidInputError
    from animstudio.voice.asr import Transcript, write_transcript

    with pytest.raises(InvalidInputError, match="srt, vtt or json"):
        write_transcript(Transcript("", "en", [], 1.0), tmp_path / "out.txt")


def test_silence_gives_no_segments(models, tmp_path):
    import soundfile as sf

    from animstudio.voice.asr import get_transcriber, write_transcript

    wav = tmp_path / "silence.wav"
    sf.write(wav, np.zeros(3 * 16000, np.float32), 16000)
    transcript = get_transcriber().transcribe(wav)
    assert transcript.segments == [] and transcript.text == ""
    assert transcript.duration_s == pytest.approx(3.0, abs=0.01)
    data = json.loads(write_transcript(transcript, tmp_path / "silence.json").read_text())
    assert data["segments"] == [] and data["text"] == ""
    t = np.arange(3 * 16000) / 16000
    chord = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0)).astype(np.float32)
    sf.write(tmp_path / "chord.wav", chord, 16000)
    for name in ("silence.wav", "chord.wav"):   # the CLI says so plainly, and writes nothing
        proc = run_cli("voice", "transcribe", str(tmp_path / name), "-f", "srt", "-o", str(tmp_path / "out.srt"),
                       env={"ANIMSTUDIO_MODELS": str(models)})
        assert proc.returncode == 1 and "no speech found" in proc.stderr and not (tmp_path / "out.srt").exists()


def test_samples_in_memory_and_the_model_is_loaded_once(models, jfk):
    from animstudio.media import decode_audio
    from animstudio.voice.asr import Transcriber, get_transcriber

    with Transcriber().whisper() as one, get_transcriber(threads=0).whisper() as other:
        assert one is other   # the same loaded model, not a second one
    samples, _ = decode_audio(JFK, sample_rate=16000)
    transcript = get_transcriber().transcribe(samples[: 16000 * 3], language="en")
    assert normalise(transcript.text)[:4] == ["and", "so", "my", "fellow"]
