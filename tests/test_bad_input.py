"""Bad input: a one-line error that says what to do, exit 1, no traceback, nothing half-written."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import assert_bad_input, ffmpeg, run_cli


def assert_clean_error(proc, *needles: str) -> None:
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in proc.stderr + proc.stdout
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def bad_files(tmp_path: Path, sample_clip) -> dict[str, Path]:
    clip, _ = sample_clip
    files = {"missing": tmp_path / "nope.mp4", "folder": tmp_path / "dir"}
    files["folder"].mkdir()
    files["empty"] = tmp_path / "empty.mp4"
    files["empty"].write_bytes(b"")
    files["text"] = tmp_path / "notes.mp4"
    files["text"].write_text("this is not a video\n" * 50)
    # truncated MP4 with its index at the end (as cameras and ffmpeg write by default)
    plain = tmp_path / "plain.mp4"
    ffmpeg("-i", str(clip), "-c", "copy", str(plain))
    files["truncated_tail_index"] = tmp_path / "cut1.mp4"
    files["truncated_tail_index"].write_bytes(plain.read_bytes()[: plain.stat().st_size // 2])
    # truncated MP4 with its index at the front (faststart): the header promises more frames
    files["truncated_faststart"] = tmp_path / "cut2.mp4"
    files["truncated_faststart"].write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    return files


@pytest.mark.parametrize("kind,needle", [
    ("missing", "does not exist"),
    ("folder", "is a folder"),
    ("empty", "is empty"),
    ("text", "not a media file"),
    ("truncated_tail_index", "truncated"),
    ("truncated_faststart", "truncated"),
])
def test_probe_rejects_bad_files(bad_files, kind, needle):
    assert_clean_error(run_cli("media", "probe", str(bad_files[kind])), needle)


@pytest.mark.parametrize("kind", ["missing", "folder", "empty", "text", "truncated_tail_index"])
def test_frame_rejects_bad_files_and_writes_nothing(bad_files, tmp_path, kind):
    out = tmp_path / "out" / "frame.png"
    assert_clean_error(run_cli("media", "frame", str(bad_files[kind]), "--at", "1", "-o", str(out)))
    assert not out.exists()


def test_audio_only_file_where_video_is_needed(tmp_path, sample_clip):
    clip, _ = sample_clip
    audio_only = tmp_path / "speech.m4a"
    ffmpeg("-i", str(clip), "-vn", "-c:a", "copy", str(audio_only))
    out = tmp_path / "frame.png"
    assert_clean_error(run_cli("media", "frame", str(audio_only), "--at", "1", "-o", str(out)),
                       "no video stream", "pass a video file")
    assert not out.exists()
    # the same file is fine where audio is what is needed
    wav = tmp_path / "speech.wav"
    proc = run_cli("media", "audio", str(audio_only), "-o", str(wav))
    assert proc.returncode == 0, proc.stderr
    assert wav.stat().st_size > 16000 * 2 * 11


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder no new file can be created in, even by root."""
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    # root ignores permission bits; a path below a regular file can never be written
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    return blocker / "sub"


def test_unwritable_output_folder_sample(tmp_path):
    folder = unwritable_folder(tmp_path)
    proc = run_cli("media", "sample", str(folder / "clip.mp4"), "--seconds", "6")
    assert_clean_error(proc, "cannot write to folder", "choose another output location")
    assert not list(tmp_path.rglob("*.mp4")) and not list(tmp_path.rglob("*.json"))


def test_read_only_filesystem_output(tmp_path, sample_clip):
    if not os.path.isdir("/proc/self") or shutil.which("true") is None:
        pytest.skip("needs /proc")
    clip, _ = sample_clip
    proc = run_cli("media", "frame", str(clip), "--at", "1", "-o", "/proc/animstudio-test/frame.png")
    assert_clean_error(proc, "cannot write to folder")


def test_sample_failure_midway_leaves_nothing(tmp_path):
    out = tmp_path / "clip.webm"  # unsupported container: refused before any work
    assert_clean_error(run_cli("media", "sample", str(out)), "change the file extension")
    assert list(tmp_path.iterdir()) == []


def test_usage_errors_exit_2(tmp_path):
    proc = run_cli("media", "probe")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: Missing argument 'FILE'. (see `animstudio media probe --help`)"
    proc = run_cli("media", "sample", str(tmp_path / "a.mp4"), "--seconds", "banana")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert run_cli("no-such-command").stderr.startswith("error: No such command")
    bare = run_cli()
    assert bare.returncode == 0 and "Commands" in bare.stdout


def test_sigterm_leaves_no_temp_files(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "long.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "animstudio", "media", "sample", str(out), "--seconds", "120"],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.startswith(".long.") for p in tmp_path.iterdir()):
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted" in err
    assert list(tmp_path.iterdir()) == []


def test_debug_shows_traceback(tmp_path):
    proc = run_cli("--debug", "media", "probe", str(tmp_path / "nope.mp4"))
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "does not exist" in proc.stderr


# -- numbers: nan, infinity and out-of-range values are refused where they are parsed (exit 2) -----------------

@pytest.mark.parametrize("args", [
    ["media", "sample", "x.mp4", "--seconds", "nan"],
    ["parody", "x.mp4", "-o", "out", "--max-minutes", "nan"],
    ["parody", "x.mp4", "-o", "out", "--max-minutes", "inf"],
    ["parody", "x.mp4", "-o", "out", "--seed", "-1"],
    ["edit", "highlights", "x.mp4", "-o", "r.mp4", "-d", "nan"],
    ["llm", "chat", "hi", "--temperature", "-inf"],
    ["llm", "chat", "hi", "--max-tokens", "0"],
    ["voice", "say", "hi", "-o", "x.wav", "--rate", "nan"],
    ["voice", "dataset", "x.wav", "-o", "d", "--min-seconds", "inf"],
    ["llm", "serve", "-p", "99999"],
    ["studio", "serve", "--port", "99999"],
    ["studio", "serve", "--max-upload-mb", "-5"],
    ["kb", "search", "cats", "--diversity", "5"],
    ["kb", "search", "cats", "-k", "0"],
    ["media", "audio", "x.mp4", "-o", "x.wav", "--rate", "0"],
])
def test_bad_numbers_are_usage_errors(tmp_path, args):
    proc = run_cli(*args, cwd=tmp_path)
    assert_bad_input(proc, "Invalid value for", code=2)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("rate,pitch,needle", [("0", "0", "'--rate'"), ("-1", "0", "'--rate'"),
                                               ("1e12", "0", "'--rate'"), ("1", "1e12", "'--pitch'")])
def test_a_value_out_of_a_models_range_is_one_line_naming_it(tmp_path, rate, pitch, needle):
    proc = run_cli("voice", "say", "hi", "-o", str(tmp_path / "x.wav"), "--rate", rate, "--pitch", pitch)
    lines = assert_bad_input(proc, needle, "voice say --help", code=2)
    assert len(lines) == 1
    assert list(tmp_path.iterdir()) == []


# -- the studio home and the model files ---------------------------------------------------------------------

@pytest.mark.parametrize("variable", ["ANIMSTUDIO_HOME", "ANIMSTUDIO_MODELS"])
def test_a_home_or_warehouse_that_is_a_file(tmp_path, variable):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert_bad_input(run_cli("models", "list", env={variable: str(blocker)}), "is a file", variable)


def test_damaged_models_are_found(tmp_path_factory):
    from conftest import installed_warehouse

    root = installed_warehouse(tmp_path_factory, "silero-vad")
    env = {"ANIMSTUDIO_MODELS": str(root)}
    onnx = next(root.rglob("*.onnx"))
    assert run_cli("models", "verify", env=env).returncode == 0
    onnx.write_bytes(onnx.read_bytes()[:1000])   # truncated
    listed = {m["name"]: m["status"] for m in json.loads(run_cli("models", "list", "--json", env=env).stdout)}
    assert listed["silero-vad"] == "damaged (reinstall it)"
    assert_bad_input(run_cli("models", "verify", env=env), "silero-vad", "is BAD", "models install silero-vad")
    onnx.unlink()   # deleted
    assert_bad_input(run_cli("models", "verify", env=env), "is missing", "models install silero-vad")
    assert_bad_input(run_cli("models", "verify", "silero-vad", env=env), "is missing")


# -- the LLM ---------------------------------------------------------------------------------------------------

def test_a_model_file_that_is_not_a_model(tmp_path):
    text = tmp_path / "text.gguf"
    text.write_text("hello\n" * 100)
    assert_bad_input(run_cli("llm", "chat", "hi", "-m", str(text)), "is not a GGUF model")
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"GGUF" + bytes(range(256)) * 4)
    assert_bad_input(run_cli("llm", "chat", "hi", "-m", str(fake)), "llama.cpp could not load", "models verify")
    assert_bad_input(run_cli("llm", "chat", "hi", "-m", "whisper-base"), "not a language model")


# -- jobs --------------------------------------------------------------------------------------------------------

def test_a_job_with_bad_parameters_is_refused_before_any_work(tmp_path, sample_clip, studio_home):
    clip, _ = sample_clip
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 20)
    cases = [
        (["parody", str(clip), "-o", str(tmp_path / "a"), "--model", "bogus"], "no model called 'bogus'"),
        (["parody", str(text), "-o", str(tmp_path / "b")], "not a media file"),
        (["narrate", str(clip), "-o", str(tmp_path / "c"), "--model", "whisper-base"], "not a language model"),
        (["parody", str(clip), "-o", str(tmp_path), "--max-minutes", "0.1"], "over the limit of 0.1 min"),
    ]
    for args, needle in cases:
        assert_bad_input(run_cli(*args), needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp4"]
    assert json.loads(run_cli("jobs", "list", "--json").stdout) == []   # no job, no job folder


def test_jobs_show_prints_strict_json_for_any_stored_parameter(sample_clip, studio_home):
    from animstudio.jobs import JobStore

    clip, _ = sample_clip
    job = JobStore().create("analyze", {"clip": str(clip), "max_minutes": float("nan")}, ["analyze"])
    proc = run_cli("jobs", "show", job.id)
    assert proc.returncode == 0, proc.stderr

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    assert json.loads(proc.stdout, parse_constant=refuse)["params"]["max_minutes"] is None


# -- the knowledge base -----------------------------------------------------------------------------------------

def test_a_file_kb_add_cannot_read_leaves_no_collection(tmp_path):
    pytest.importorskip("chromadb")
    binary = tmp_path / "notes.md"
    binary.write_bytes(bytes(range(256)) * 64)
    assert_bad_input(run_cli("kb", "add", str(binary), "-c", "scratch"))
    assert json.loads(run_cli("kb", "list", "--json").stdout) == {}
