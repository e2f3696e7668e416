"""Bad input to the `voice` commands: one line saying how to fix it, exit 1 (2 for usage errors), no
traceback, and no file made. Most are refused before any model is loaded or any line is spoken."""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from animstudio.errors import InvalidInputError
from animstudio.voice.batch import MAX_START_S, read_script
from animstudio.voice.text import MAX_LINE_CHARS
from conftest import assert_bad_input, run_cli, tree


@pytest.fixture
def silence(tmp_path):
    """A second of silence: the recogniser gives up on it before loading a model."""
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(16000, np.float32), 16000)
    return path


def refused(tmp_path, *args, needles=(), code=1, **kw):
    """Run the CLI in ``tmp_path``; it must refuse with one line and leave every file as it was."""
    before = tree(tmp_path)
    proc = run_cli(*args, cwd=tmp_path, **kw)
    lines = assert_bad_input(proc, *needles, code=code)
    assert len(lines) == 1, lines
    assert tree(tmp_path) == before
    return lines[0]


# -- voice say: the output's format, its path and the cues' path, checked before speaking --------------------

@pytest.mark.parametrize("suffix,kind", [(".mp3", "MP3"), (".flac", "FLAC"), (".ogg", "OGG"), (".wav", "WAV")])
def test_say_writes_the_format_its_suffix_names(tmp_path, suffix, kind):
    out = tmp_path / f"line{suffix}"
    proc = run_cli("voice", "say", "Hello there.", "-e", "espeak", "-o", str(out), "--cues", str(tmp_path / "c.json"))
    assert proc.returncode == 0, proc.stderr
    assert sf.info(str(out)).format == kind and sf.info(str(out)).duration > 0.3
    assert json.loads((tmp_path / "c.json").read_text())["metadata"]["soundFile"] == out.name
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "studio-home") == sorted(["c.json", out.name])


@pytest.mark.parametrize("name", ["line.m4a", "line.txt", "line"])
def test_say_refuses_a_suffix_it_cannot_write(tmp_path, name):
    refused(tmp_path, "voice", "say", "Hi.", "-e", "espeak", "-o", name, needles=(".wav, .flac, .ogg or .mp3",))


@pytest.mark.parametrize("output,cues,needle", [
    ("x.wav", "cues.txt", ".tsv, .json or .dat"),
    ("x.wav", "cues", ".tsv, .json or .dat"),
    ("x.wav", "a-folder", "is a folder"),
    ("x.wav", "a-file/c.tsv", "cannot write to folder"),
    ("a-folder", "c.tsv", "is a folder"),
    ("a-file/x.wav", "c.tsv", "cannot write to folder"),
])
def test_say_checks_output_and_cues_before_speaking(tmp_path, output, cues, needle):
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_text("not a folder")
    refused(tmp_path, "voice", "say", "Hi.", "-e", "espeak", "-o", output, "--cues", cues, needles=(needle,))


def test_say_refuses_a_line_too_long_before_speaking(tmp_path):
    text = "Words to say. " * (MAX_LINE_CHARS // 14 + 100)
    line = refused(tmp_path, "voice", "say", text, "-e", "espeak", "-o", "long.wav",
                   needles=(f"{MAX_LINE_CHARS:,}", "voice batch"))
    assert len(line) < 300


@pytest.mark.parametrize("option,value,needle", [
    ("--rate", "0", "'--rate'"), ("--rate", "-1", "'--rate'"), ("--rate", "1e12", "'--rate'"),
    ("--rate", "nan", "'--rate'"), ("--pitch", "1e12", "pitch"), ("--pitch", "nan", "'--pitch'"),
])
def test_say_rate_and_pitch_out_of_range_are_usage_errors(tmp_path, option, value, needle):
    refused(tmp_path, "voice", "say", "Hi.", "-e", "espeak", "-o", "x.wav", option, value, needles=(needle,), code=2)


def test_say_rate_out_of_range_with_a_character(tmp_path):
    (tmp_path / "characters.yaml").write_text("characters:\n  rex: {engine: espeak, voice: en-us}\n",
                                              encoding="utf-8")
    refused(tmp_path, "voice", "say", "Hi.", "-c", "rex", "-o", "x.wav", "--rate", "0", needles=("'--rate'",),
            code=2)


# -- voice transcribe: format, output and language, checked before any work ---------------------------------

@pytest.mark.parametrize("args,needle", [
    (["-f", "srt", "-o", "x.json"], "make them agree"),
    (["-f", "vtt", "-o", "x.srt"], "make them agree"),
    (["-o", "x.txt"], ".srt, .vtt or .json"),
    (["-f", "json", "-o", "x"], ".srt, .vtt or .json"),
    (["-o", "a-folder"], "is a folder"),
    (["-o", "a-file/x.srt"], "cannot write to folder"),
    (["-l", "xx"], "unknown language 'xx'"),
])
def test_transcribe_checks_before_transcribing(tmp_path, silence, args, needle):
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_text("not a folder")
    line = refused(tmp_path, "voice", "transcribe", str(silence), *args, needles=(needle,),
                   env={"ANIMSTUDIO_MODELS": str(tmp_path / "no-models")})
    assert "no speech" not in line
    assert not (tmp_path / "no-models").exists()


def test_an_unknown_format_is_a_usage_error(tmp_path, silence):
    refused(tmp_path, "voice", "transcribe", str(silence), "-f", "doc", needles=("'srt', 'vtt', 'json'",), code=2)
    refused(tmp_path, "voice", "lipsync", str(silence), "-f", "xml", "-o", "c.tsv", needles=("'tsv', 'json', 'dat'",),
            code=2)


def test_an_unknown_language_is_one_short_line(tmp_path, silence):
    line = refused(tmp_path, "voice", "transcribe", str(silence), "-l", "klingon", needles=("unknown language",))
    assert "en, it" in line and len(line) < 200


def test_transcribe_takes_the_format_from_the_outputs_suffix(tmp_path, whisper_warehouse):
    env = {"ANIMSTUDIO_MODELS": str(whisper_warehouse)}
    wav = tmp_path / "hello.wav"
    assert run_cli("voice", "say", "Hello there, my friend.", "-e", "espeak", "-o", str(wav)).returncode == 0
    for name, start in (("t.srt", "1\n"), ("t.vtt", "WEBVTT"), ("t.json", "{")):
        proc = run_cli("voice", "transcribe", str(wav), "-o", str(tmp_path / name), "-l", "EN", env=env)
        assert proc.returncode == 0, proc.stderr
        assert (tmp_path / name).read_text(encoding="utf-8").startswith(start)


# -- voice lipsync: the language ----------------------------------------------------------------------------

def test_lipsync_refuses_an_unknown_language_before_any_work(tmp_path, silence):
    refused(tmp_path, "voice", "lipsync", str(silence), "--text", "Hi there.", "-o", "cues.tsv", "-l", "xx",
            needles=("unknown language 'xx'", "en, it"), env={"ANIMSTUDIO_MODELS": str(tmp_path / "no-models")})


# -- voice check: the lines file ----------------------------------------------------------------------------

@pytest.mark.parametrize("data", [bytes(range(256)) * 4, b"\x89PNG\r\n\x1a\n" + bytes(200), b"one\x00two\n"])
def test_check_refuses_a_lines_file_that_is_not_text(tmp_path, data):
    (tmp_path / "lines.txt").write_bytes(data)
    refused(tmp_path, "voice", "check", "-e", "espeak", "--lines", "lines.txt", needles=("is not a UTF-8 text file",))


# -- voice batch: each bad value names its line --------------------------------------------------------------

@pytest.mark.parametrize("entry,needle", [
    ("{text: [a, b]}", "text ['a', 'b'] is not a line of words"),
    ("{text: 42}", "text 42 is not a line of words"),
    ("{text: Hi, start: 1e12}", f"past {MAX_START_S // 3600} hours"),
    ("{text: Hi, start: 1.0e+400}", "not a finite number"),
    ("{text: Hi, start: .nan}", "not a finite number"),
    ("{text: Hi, start: .inf}", "not a finite number"),
    ("{text: Hi, start: -.inf}", "not a finite number"),
    ("{text: Hi, start: [1]}", "not a number of seconds"),
    ("{text: Hi, start: yes}", "not a number of seconds"),
    ("{text: Hi, character: [rex]}", "character ['rex'] is not a name"),
    ("{text: Hi, character: 7}", "character 7 is not a name"),
    ("{text: Hi, emotion: {a: 1}}", "emotion {'a': 1} is not a name"),
    ("{text: Hi, emotion: 1.5}", "emotion 1.5 is not a name"),
    ("{text: Hi, 3: x}", "unknown field(s) 3"),
])
def test_batch_yaml_values_are_refused_naming_the_line(tmp_path, entry, needle):
    (tmp_path / "scene.yaml").write_text(f"lines:\n  - {{text: Fine.}}\n  - {entry}\n", encoding="utf-8")
    refused(tmp_path, "voice", "batch", "scene.yaml", "-o", "out", needles=("scene.yaml line 2:", needle))


@pytest.mark.parametrize("start,needle", [("nan", "not a finite number"), ("inf", "not a finite number"),
                                          ("-inf", "not a finite number"), ("1e12", "hours"),
                                          ("1e400", "not a finite number"), ("soon", "not a number of seconds")])
def test_batch_csv_starts_are_refused_naming_the_row(tmp_path, start, needle):
    (tmp_path / "scene.csv").write_text(f"text,start\nFine.,1\nHi,{start}\n", encoding="utf-8")
    refused(tmp_path, "voice", "batch", "scene.csv", "-o", "out", needles=("scene.csv row 3:", needle))


def test_batch_refuses_binary_scripts_and_late_subtitles(tmp_path):
    (tmp_path / "scene.csv").write_bytes(b"text,start\n" + bytes(range(128, 256)))
    refused(tmp_path, "voice", "batch", "scene.csv", "-o", "out", needles=("is not a UTF-8 text file",))
    (tmp_path / "scene.yaml").write_bytes(b"lines:\n  - {text: \xff\xfe}\n")
    refused(tmp_path, "voice", "batch", "scene.yaml", "-o", "out", needles=("is not a UTF-8 text file",))
    (tmp_path / "scene.srt").write_text("1\n30:00:00,000 --> 30:00:01,000\nHi.\n", encoding="utf-8")
    refused(tmp_path, "voice", "batch", "scene.srt", "-o", "out", needles=("scene.srt cue 1:", "hours"))


def test_scripts_keep_working(tmp_path):
    (tmp_path / "a.yaml").write_text("lines:\n  - {text: ' Hi. ', start: 0, character: ''}\n"
                                     "  - {text: Bye., start: '2.5', emotion: sad, engine: espeak}\n", encoding="utf-8")
    lines = read_script(tmp_path / "a.yaml")
    assert [(x.text, x.start_s, x.character, x.emotion, x.engine) for x in lines] == [
        ("Hi.", 0.0, None, "neutral", None), ("Bye.", 2.5, None, "sad", "espeak")]
    (tmp_path / "b.yaml").write_text(f"lines:\n  - {{text: Hi, start: {MAX_START_S}}}\n", encoding="utf-8")
    assert read_script(tmp_path / "b.yaml")[0].start_s == MAX_START_S


# -- the script parser, for any values ----------------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80) | st.floats() | TEXT
           | st.sampled_from(["nan", "inf", "-inf", "1e12", "1e400", "-1", "0", "2.5", "86400", "", " ", "Hi."]))
ANY = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=2),
                   max_leaves=5)
VALUE = st.one_of(SCALARS, SCALARS, ANY)   # mostly plain values, so that whole lines get through more often
ENTRY = st.fixed_dictionaries({"text": VALUE}, optional={key: VALUE for key in
                                                         ("start", "character", "emotion", "engine", "voice")})


def _check(path: Path) -> None:
    try:
        lines = read_script(path)
    except InvalidInputError as exc:
        assert "\n" not in str(exc) and str(exc).strip()
        return
    for line in lines:
        assert isinstance(line.text, str) and line.text.strip() and len(line.text) <= MAX_LINE_CHARS
        assert line.start_s is None or (isinstance(line.start_s, float) and math.isfinite(line.start_s)
                                        and 0 <= line.start_s <= MAX_START_S)
        assert isinstance(line.emotion, str) and line.emotion
        for name in (line.character, line.engine, line.voice):
            assert name is None or isinstance(name, str)


@settings(max_examples=200, deadline=None)
@given(entries=st.lists(ENTRY, min_size=1, max_size=3))
def test_yaml_scripts_give_valid_lines_or_one_error(entries):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scene.yaml"
        path.write_text(yaml.safe_dump({"lines": entries}, allow_unicode=True), encoding="utf-8")
        _check(path)


@settings(max_examples=200, deadline=None)
@given(entries=st.lists(ENTRY, min_size=1, max_size=3))
def test_csv_scripts_give_valid_lines_or_one_error(entries):
    header = list(dict.fromkeys(key for entry in entries for key in entry))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for entry in entries:
        values = [entry.get(key, "") for key in header]
        writer.writerow([v if isinstance(v, str) else repr(v) for v in values])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "scene.csv"
        path.write_text(out.getvalue(), encoding="utf-8")
        _check(path)
