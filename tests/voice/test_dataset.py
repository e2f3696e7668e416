"""Voice datasets from real speech: two speakers told apart and named, overlap kept out of clips, the
GPT-SoVITS list, the report, and bad input.

The shared stereo clip (5 s, 16 kHz) has one speaker per channel, and they talk at the same time:
the right speaker's whole sentence (0.3-2.2 s) is said over the first half of the left speaker's
(0.3-4.8 s). Mixed to mono, the right voice is never heard alone, so no clustering of voices can
give it clips of its own. What the builder can do is keep the overlap out of the left speaker's
clips, and it does when it knows the right voice from a --name reference: the overlapped windows
are then alike to both voices (0.63-0.72 to each). Without a reference the overlap sounds enough
like the left speaker (0.70-0.80 alike) to pass in part, so that case is not asserted. Hence:

- taking turns: the two channels one after the other (right, 0.5 s pause, left), mono: exactly two
  speakers, each clip with its own sentence; the derived_*_left/right.wav references name them;
- the real overlapped mix, with both references: the overlap is rejected as overlapping speech, the
  left speaker keeps the stretch after 2.2 s where it talks alone, the right reference matches no one.

The right sentence lasts 1.9 s and the left speaker talks alone for 2.6 s of the mix: both under the
3 s training minimum, so these tests build with min_seconds=1.
"""

from __future__ import annotations

import json
import os
import wave
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from animstudio.errors import InvalidInputError, MediaUnreadableError, StudioError
from animstudio.voice.wer import wer
from conftest import SHARED_DATA, installed_warehouse

SPEECH = SHARED_DATA / "speech" / "faster_whisper"
STEREO = SPEECH / "stereo_diarization.wav"
LEFT = SPEECH / "derived_stereo_diarization_left.wav"
RIGHT = SPEECH / "derived_stereo_diarization_right.wav"
LEFT_TEXT = "He began a confused complaint against the wizard, who had vanished behind the curtain on the left."
RIGHT_TEXT = "The horizon seems extremely distant."
LEFT_ALONE_TEXT = "who had vanished behind the curtain on the left"  # after the right speaker stops
RATE = 16000

pytestmark = pytest.mark.skipif(not STEREO.is_file(), reason=f"real test media not found at {SPEECH}")


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(rate)
        wf.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int, int]:
    with wave.open(str(path), "rb") as wf:
        assert wf.getnchannels() == 1
        data = np.frombuffer(wf.readframes(wf.getnframes()), "<i2")
        return data, wf.getframerate(), wf.getsampwidth()


@pytest.fixture(scope="module")
def warehouse_dir(tmp_path_factory):
    pytest.importorskip("faster_whisper")
    pytest.importorskip("torch")
    return installed_warehouse(tmp_path_factory, "whisper-base", "silero-vad", "resemblyzer-encoder")


@pytest.fixture
def models(warehouse_dir, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(warehouse_dir))
    return warehouse_dir


@pytest.fixture(scope="module")
def turns_wav(tmp_path_factory) -> Path:
    """The right channel, a 0.5 s pause, then the left channel: two speakers taking turns, in mono."""
    from animstudio.media import decode_audio

    left, _ = decode_audio(LEFT, RATE)
    right, _ = decode_audio(RIGHT, RATE)
    return write_wav(tmp_path_factory.mktemp("turns") / "turns.wav",
                     np.concatenate([right, np.zeros(RATE // 2, np.float32), left]))


@pytest.fixture(scope="module")
def turns_built(warehouse_dir, turns_wav, tmp_path_factory):
    """The dataset of the turns recording, built once (with its progress events)."""
    from animstudio.voice.dataset import build_dataset

    out = tmp_path_factory.mktemp("built") / "voices"
    events = []
    before = os.environ.get("ANIMSTUDIO_MODELS")
    os.environ["ANIMSTUDIO_MODELS"] = str(warehouse_dir)
    try:
        report = build_dataset(turns_wav, out, min_seconds=1.0, language="en", on_progress=events.append)
    finally:
        if before is None:
            os.environ.pop("ANIMSTUDIO_MODELS", None)
        else:
            os.environ["ANIMSTUDIO_MODELS"] = before
    return report, out, events


# ---------------------------------------------------------------- two speakers taking turns


def test_two_speakers_each_with_its_own_sentence(turns_built):
    report, out, _ = turns_built
    assert [s.name for s in report.speakers] == ["speaker_1", "speaker_2"]  # most speech first: the left voice
    assert [(s.clips, s.rejected) for s in report.speakers] == [(1, 0), (1, 0)]
    by_speaker = {c.speaker: c for c in report.clips}
    left, right = by_speaker["speaker_1"], by_speaker["speaker_2"]
    assert wer(LEFT_TEXT, left.text) <= 0.05, left.text
    assert wer(RIGHT_TEXT, right.text) <= 0.05, right.text
    # the right sentence is at 0.3-2.2 s, the left one 5.5 s later (0.5 s pause, 5 s right channel)
    assert 0.0 <= right.start_s <= 0.35 and 2.15 <= right.end_s <= 2.8
    assert 5.5 <= left.start_s <= 5.85 and 10.2 <= left.end_s <= 10.5
    assert report.rejected == [] and report.unmatched_names == [] and report.language == "en"
    assert all(c.snr_db >= 12 for c in report.clips)


def test_clips_are_16_bit_mono_wavs_of_their_stretch(turns_built):
    report, out, _ = turns_built
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        ".animstudio-output.json", "dataset.list", "report.json", "report.md", "speaker_1", "speaker_1/speaker_1.list",
        "speaker_1/speaker_1_0001.wav", "speaker_2", "speaker_2/speaker_2.list", "speaker_2/speaker_2_0001.wav"]
    for clip in report.clips:
        data, rate, width = read_wav(out / clip.path)
        assert (rate, width) == (RATE, 2)  # the input's own rate
        assert len(data) / rate == pytest.approx(clip.duration_s, abs=0.002)
        assert np.abs(data).max() == pytest.approx(32767 * 10 ** (-1 / 20), rel=0.01)  # peak at -1 dBFS
    assert not list(out.parent.glob(".*.tmp"))  # the temp folder was renamed, nothing left beside it


def test_gpt_sovits_list(turns_built):
    report, out, _ = turns_built
    lines = (out / "dataset.list").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    rows = [line.split("|") for line in lines]
    assert all(len(r) == 4 for r in rows)
    assert [r[1] for r in rows] == ["speaker_1", "speaker_2"] and {r[2] for r in rows} == {"en"}
    for path, speaker, _, text in rows:
        assert Path(path).is_absolute() and Path(path) == (out / speaker / f"{speaker}_0001.wav").resolve()
        assert text == next(c.text for c in report.clips if c.speaker == speaker)
    assert wer(LEFT_TEXT, rows[0][3]) <= 0.05 and wer(RIGHT_TEXT, rows[1][3]) <= 0.05
    assert (out / "speaker_2" / "speaker_2.list").read_text(encoding="utf-8") == lines[1] + "\n"


def test_report_json_and_markdown(turns_built):
    report, out, _ = turns_built
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data == json.loads(json.dumps(report.to_json()))
    assert data["speakers"][0] == {"name": "speaker_1", "clips": 1, "seconds": report.clips[1].duration_s,
                                   "rejected": 0, "reference": None, "similarity": None}
    assert data["options"]["min_seconds"] == 1.0 and data["options"]["sample_rate"] == RATE
    assert set(data["timings_s"]) == {"decode", "find speech", "speakers", "transcribe", "write"}
    assert len(data["input_sha256"]) == 64
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| speaker_1 | 1 | 4." in md and "| speaker_2 | 1 | 2." in md and "horizon seems" in md


def test_progress_reaches_the_end_of_every_step(turns_built):
    _, _, events = turns_built
    last = {e.task: e for e in events}
    assert list(last) == ["decode audio", "find speech", "speaker embeddings", "transcribe", "write clips"]
    assert all(e.done == e.total for e in last.values())
    assert (last["transcribe"].total, last["transcribe"].unit) == (2, "clips")


# ---------------------------------------------------------------- names from reference recordings, the CLI


def _app() -> typer.Typer:
    from animstudio.cli.voice_dataset import dataset

    app = typer.Typer()
    app.command()(dataset)
    app.command("other")(lambda: None)  # two commands: the app keeps the command's own name
    return app


def test_cli_names_speakers_from_references(models, turns_wav, tmp_path):
    out = tmp_path / "named"
    result = CliRunner().invoke(_app(), ["dataset", str(turns_wav), "-o", str(out), "--name", f"wizard={LEFT}",
                                         "--name", f"horizon={RIGHT}", "--min-seconds", "1", "--language", "en",
                                         "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    speakers = {s["name"]: s for s in data["speakers"]}
    assert list(speakers) == ["wizard", "horizon"]
    assert speakers["wizard"]["reference"] == str(LEFT) and speakers["wizard"]["similarity"] >= 0.9
    assert speakers["horizon"]["reference"] == str(RIGHT) and speakers["horizon"]["similarity"] >= 0.9
    texts = {c["speaker"]: c["text"] for c in data["clips"]}
    assert wer(LEFT_TEXT, texts["wizard"]) <= 0.05 and wer(RIGHT_TEXT, texts["horizon"]) <= 0.05
    assert (out / "wizard" / "wizard_0001.wav").is_file() and (out / "horizon" / "horizon_0001.wav").is_file()
    assert [line.split("|")[1] for line in (out / "dataset.list").read_text().splitlines()] == ["wizard", "horizon"]


def test_cli_refuses_bad_arguments_before_work(tmp_path, turns_wav):
    runner = CliRunner()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    bad = {
        "does not exist": [str(tmp_path / "missing.mkv"), "-o", str(tmp_path / "a")],
        "must look like SPEAKER=RECORDING": [str(turns_wav), "-o", str(tmp_path / "b"), "--name", "wizard"],
        "reference recording for wizard": [str(turns_wav), "-o", str(tmp_path / "c"), "--name",
                                           f"wizard={tmp_path / 'nope.wav'}"],
        "did not write; choose a new or empty folder": [str(turns_wav), "-o", str(tmp_path / "full")],
        "above max_seconds": [str(turns_wav), "-o", str(tmp_path / "d"), "--min-seconds", "12"],
        "names a folder": [str(turns_wav), "-o", str(tmp_path / "e"), "--name", f"a/b={LEFT}"],
    }
    for message, args in bad.items():
        result = runner.invoke(_app(), ["dataset", *args])
        assert isinstance(result.exception, StudioError) and message in str(result.exception), (message, result)
        assert "\n" not in str(result.exception)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]  # nothing written for any of them


# ---------------------------------------------------------------- the real, overlapped mix


def test_overlap_is_kept_out_of_clips_when_both_voices_are_known(models, tmp_path):
    from animstudio.voice.dataset import build_dataset

    report = build_dataset(STEREO, tmp_path / "mix", min_seconds=1.0, language="en",
                           names={"wizard": LEFT, "horizon": RIGHT})
    assert [s.name for s in report.speakers] == ["wizard"]
    [overlap] = report.rejected
    assert overlap.speaker is None and overlap.reason.startswith("overlapping speech")
    assert overlap.start_s <= 0.3 and overlap.end_s >= 2.1  # the right sentence: 0.3-2.2 s
    [clip] = report.clips
    assert clip.speaker == "wizard" and clip.start_s >= 2.1 and clip.end_s >= 4.7
    assert wer(LEFT_ALONE_TEXT, clip.text) <= 0.25, clip.text
    [unmatched] = report.unmatched_names
    assert (unmatched.name, unmatched.closest) == ("horizon", "wizard") and unmatched.similarity < 0.75
    assert "horizon matched no speaker" in (tmp_path / "mix" / "report.md").read_text()


# ---------------------------------------------------------------- bad input


def chords(seconds: float = 8.0) -> np.ndarray:
    """Music-like: a bass note under decaying piano-ish chords with harmonics."""
    t = np.arange(int(seconds * RATE)) / RATE
    x = 0.3 * np.sin(2 * np.pi * 110 * t) * (1 + 0.5 * np.sin(2 * np.pi * 2 * t))
    for i, f in enumerate([261.6, 329.6, 392.0, 523.3, 440.0, 349.2, 293.7, 246.9][: int(seconds)]):
        part = (t >= i) & (t < i + 1)
        for harmonic, amp in ((1, 1.0), (2, 0.5), (3, 0.3), (4, 0.2)):
            x[part] += amp * np.exp(-3 * (t[part] - i)) * np.sin(2 * np.pi * f * harmonic * t[part])
    return (0.3 * x / np.abs(x).max()).astype(np.float32)


@pytest.mark.parametrize("kind", ["silence", "music"])
def test_no_speech_is_a_plain_error_and_writes_nothing(models, tmp_path, kind):
    from animstudio.voice.dataset import build_dataset

    samples = np.zeros(4 * RATE, np.float32) if kind == "silence" else chords()
    source = write_wav(tmp_path / f"{kind}.wav", samples)
    with pytest.raises(InvalidInputError, match=f"^no speech found in {source}: ") as info:
        build_dataset(source, tmp_path / "out")
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{kind}.wav"]  # no folder, no temp folder


def test_short_and_clipped_speech_is_rejected_with_reasons(models, turns_wav, tmp_path):
    from animstudio.media import decode_audio
    from animstudio.voice.dataset import build_dataset

    report = build_dataset(turns_wav, tmp_path / "default", language="en")  # clips of 3-10 s
    assert [(s.name, s.clips, s.rejected) for s in report.speakers] == [("speaker_1", 1, 0), ("speaker_2", 0, 1)]
    [short] = report.rejected
    assert short.speaker == "speaker_2" and short.reason == f"too short ({short.duration_s:.2f} s < 3 s)"
    assert 1.9 <= short.duration_s <= 2.6 and wer(LEFT_TEXT, report.clips[0].text) <= 0.05
    assert "too short" in (tmp_path / "default" / "report.md").read_text()

    loud = write_wav(tmp_path / "loud.wav", np.clip(decode_audio(turns_wav, RATE)[0] * 20, -1, 1))
    with pytest.raises(InvalidInputError, match=r"^no usable clips in .*loud.wav: 2 clipped; lower") as info:
        build_dataset(loud, tmp_path / "loud", min_seconds=1.0, language="en")
    assert "\n" not in str(info.value) and not (tmp_path / "loud").exists()


def test_missing_input_is_the_usual_error(tmp_path):
    from animstudio.voice.dataset import build_dataset

    with pytest.raises(MediaUnreadableError, match="does not exist; check the path"):
        build_dataset(tmp_path / "nope.mp4", tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- quality measures


def test_snr_estimate_matches_noise_added_at_known_levels(models):
    from animstudio.media import decode_audio
    from animstudio.voice.dataset import quality
    from animstudio.voice.dataset.vad import speech_probabilities

    speech, _ = decode_audio(SHARED_DATA / "speech" / "ljspeech" / "wavs" / "LJ001-0001.wav", RATE)
    probs = speech_probabilities(speech)
    powers = quality.frame_powers(speech)
    level = float(np.mean(powers[probs >= 0.5]))
    assert quality.snr_db(powers, probs, quality.noise_power(powers, probs, 0, len(probs))) > 40  # a studio
    rng = np.random.default_rng(0)
    for target in (20.0, 10.0, 5.0):
        noisy = speech + rng.standard_normal(len(speech)).astype(np.float32) * np.sqrt(level / 10 ** (target / 10))
        probs = speech_probabilities(noisy)
        powers = quality.frame_powers(noisy)
        measured = quality.snr_db(powers, probs, quality.noise_power(powers, probs, 0, len(probs)))
        assert measured == pytest.approx(target, abs=1.5)


def test_clipping_is_measured_on_full_scale_samples():
    from animstudio.voice.dataset.quality import MAX_CLIPPED, clipped_fraction

    t = np.arange(RATE) / RATE
    assert clipped_fraction(0.5 * np.sin(2 * np.pi * 200 * t)) == 0.0
    clipped = np.clip(1.5 * np.sin(2 * np.pi * 200 * t), -1, 1)
    assert clipped_fraction(clipped) == pytest.approx(0.54, abs=0.02)  # |1.5 sin| >= 1 for 54% of the time
    assert clipped_fraction(clipped) > MAX_CLIPPED
