"""Output folders: a command never replaces or deletes what it did not write, and a failed run
changes nothing. Checked on the shared helper and on the commands that write folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from animstudio.errors import InvalidInputError
from animstudio.files import OWNER_FILE, output_folder
from conftest import assert_bad_input, run_cli, tree


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def test_a_new_folder_gets_the_files_and_a_record_of_them(tmp_path):
    out = tmp_path / "a" / "b" / "out"
    with output_folder(out, "demo") as tmp:
        _write(tmp, {"mix.wav": "1", "sub/x.json": "2"})
    assert tree(out) == {OWNER_FILE: (out / OWNER_FILE).read_bytes(), "mix.wav": b"1", "sub/x.json": b"2"}
    assert json.loads((out / OWNER_FILE).read_text()) == {"command": "demo", "files": ["mix.wav", "sub/x.json"]}
    assert sorted(p.name for p in out.parent.iterdir()) == ["out"]   # no temp folder left


def test_a_folder_of_other_files_is_refused_before_the_work(tmp_path):
    out = tmp_path / "mine"
    _write(out, {"notes.txt": "keep me", "scene/script.yaml": "lines: []"})
    before = tree(tmp_path)
    with pytest.raises(InvalidInputError, match="did not write; choose a new or empty folder"):
        with output_folder(out, "demo"):
            raise AssertionError("the work must not start")
    assert tree(tmp_path) == before


def test_another_commands_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    with output_folder(out, "voice batch") as tmp:
        _write(tmp, {"mix.wav": "1"})
    with pytest.raises(InvalidInputError, match="`animstudio analyze report` did not write"):
        with output_folder(out, "analyze report"):
            pass


def test_a_rerun_replaces_its_own_files_and_leaves_the_users(tmp_path):
    out = tmp_path / "out"
    with output_folder(out, "demo") as tmp:
        _write(tmp, {"001.wav": "old", "002.wav": "old", "lines.json": "old"})
    _write(out, {"my-notes.txt": "mine"})   # the user adds a file of their own
    with output_folder(out, "demo") as tmp:
        _write(tmp, {"001.wav": "new", "lines.json": "new"})   # one line fewer this time
    files = tree(out)
    files.pop(OWNER_FILE)
    assert files == {"001.wav": b"new", "lines.json": b"new", "my-notes.txt": b"mine"}


def test_a_user_file_in_the_way_stops_the_move_and_changes_nothing(tmp_path):
    out = tmp_path / "out"
    with output_folder(out, "demo") as tmp:
        _write(tmp, {"001.wav": "old"})
    _write(out, {"002.wav": "the user's own"})
    before = tree(tmp_path)
    with pytest.raises(InvalidInputError, match="002.wav was not written by"):
        with output_folder(out, "demo") as tmp:
            _write(tmp, {"001.wav": "new", "002.wav": "new"})
    assert tree(tmp_path) == before


def test_a_failed_run_leaves_nothing_not_even_the_folders_above(tmp_path):
    with pytest.raises(RuntimeError):
        with output_folder(tmp_path / "x" / "y" / "out", "demo") as tmp:
            _write(tmp, {"half.wav": "..."})
            raise RuntimeError("the work failed")
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "out").write_text("x")
    with pytest.raises(InvalidInputError, match="is a file"):
        with output_folder(tmp_path / "out", "demo"):
            pass


SCRIPT = "lines:\n  - {engine: espeak, text: Hello there., start: 0.5}\n"


def test_voice_batch_never_deletes_the_users_files(tmp_path):
    """Writing into the folder that holds the script (or any folder of other files) is refused and
    every file there survives; the script's own folder was once replaced whole."""
    project = tmp_path / "project"
    _write(project, {"scene.yaml": SCRIPT, "notes.md": "ideas", "refs/a.txt": "a"})
    before = tree(tmp_path)
    for target in (project, project / "refs"):
        assert_bad_input(run_cli("voice", "batch", str(project / "scene.yaml"), "-o", str(target)),
                         "did not write; choose a new or empty folder")
        assert tree(tmp_path) == before


def test_voice_batch_reruns_into_its_own_folder(tmp_path):
    script = tmp_path / "scene.yaml"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    assert run_cli("voice", "batch", str(script), "-o", str(out)).returncode == 0
    (out / "director-notes.txt").write_text("keep")
    proc = run_cli("voice", "batch", str(script), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert sorted(tree(out)) == [OWNER_FILE, "001-espeak.json", "001-espeak.wav", "director-notes.txt",
                                 "lines.json", "mix.wav"]


def test_analyze_report_refuses_a_folder_of_other_files(tmp_path, sample_clip):
    clip, _ = sample_clip
    out = tmp_path / "report"
    _write(out, {"report.html": "the user's own page"})
    before = tree(tmp_path)
    assert_bad_input(run_cli("analyze", "report", str(clip), "-o", str(out)), "did not write")
    assert tree(tmp_path) == before


def test_analyze_report_of_a_non_video_creates_nothing(tmp_path):
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 20)
    assert_bad_input(run_cli("analyze", "report", str(text), "-o", str(tmp_path / "new" / "report")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.mp4"]
