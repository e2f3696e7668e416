"""The model warehouse: where catalog files live, which are verified, and files users bring.

Layout: ``<warehouse>/<model>/<file>``, plus ``index.json`` with verification stamps (sha256 at a
given size and mtime). A user's own copy of a catalog file, found by its hash, is used in place:
the warehouse holds a link to it under the catalog's file name, so every model's folder looks the
same to the runtimes whatever the user called their files.

    >>> wh = Warehouse()
    >>> wh.add("~/Downloads/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")   # recognised by hash, not copied
    >>> wh.path(get_entry("qwen2.5-coder-1.5b-instruct"))
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from animstudio.config import load_settings
from animstudio.errors import (
    InvalidInputError,
    ModelError,
    ModelHashMismatchError,
    ModelNotInstalledError,
)
from animstudio.files import check_input_file, file_lock, sha256_file, write_text_atomic
from animstudio.models.catalog import CatalogEntry, ModelFile, by_hash, get_entry
from animstudio.progress import Progress, ProgressCallback, ignore

State = Literal["missing", "unverified", "verified", "bad"]


@dataclass
class FileStatus:
    file: ModelFile
    path: Path | None
    state: State
    in_place: bool = False  # a user's file outside the warehouse, linked in by its hash


@contextlib.contextmanager
def warehouse_errors(root: Path) -> Iterator[None]:
    """Turn file-system failures in the warehouse into one actionable error."""
    try:
        yield
    except OSError as exc:
        raise ModelError(f"cannot write to the model warehouse {root} ({exc.strerror or exc}); "
                         f"set ANIMSTUDIO_MODELS to a writable folder") from exc


class Warehouse:
    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser().absolute() if root else load_settings().warehouse
        self.index_path = self.root / "index.json"

    # -- index: verification stamps --------------------------------------------------------------
    def _index(self) -> dict[str, Any]:
        try:
            data = json.loads(self.index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        data.setdefault("stamps", {})
        return data

    @contextlib.contextmanager
    def _updating(self) -> Iterator[dict[str, Any]]:
        """Read, change and write the index under a lock, so concurrent processes lose nothing."""
        with warehouse_errors(self.root), file_lock(self.root / ".index.lock"):
            data = self._index()
            before = json.dumps(data, sort_keys=True)
            yield data
            if json.dumps(data, sort_keys=True) != before:
                write_text_atomic(self.index_path, json.dumps(data, indent=2, sort_keys=True))

    def stamp(self, path: Path, sha256: str) -> None:
        st = path.stat()
        with self._updating() as data:
            data["stamps"][str(path.resolve())] = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}

    @staticmethod
    def _stamped(path: Path, data: dict[str, Any]) -> str | None:
        rec = data["stamps"].get(str(path.resolve()))
        if not rec:
            return None
        st = path.stat()
        return rec["sha256"] if (rec["size"], rec["mtime_ns"]) == (st.st_size, st.st_mtime_ns) else None

    # -- where files are -------------------------------------------------------------------------
    def folder(self, entry: CatalogEntry) -> Path:
        return self.root / entry.name

    def canonical(self, entry: CatalogEntry, file: ModelFile) -> Path:
        return self.folder(entry) / file.name

    def lock(self, entry: CatalogEntry) -> contextlib.AbstractContextManager[None]:
        """Held while a model is installed or removed, so two installs never write one file."""
        return file_lock(self.root / f".{entry.name}.lock")

    def locate(self, entry: CatalogEntry, file: ModelFile) -> tuple[Path | None, bool]:
        """(path, in_place) of the file, or (None, False) when it is nowhere (or a link is dangling)."""
        path = self.canonical(entry, file)
        if path.is_file():
            return path, path.is_symlink()
        return None, False

    def status(self, entry: CatalogEntry, rehash: bool = False,
               on_progress: ProgressCallback = ignore) -> list[FileStatus]:
        """State of each file. Without ``rehash`` the stamps answer; with it every file is hashed."""
        if rehash:
            return [self.verify_file(entry, f, on_progress) for f in entry.files]
        data = self._index()
        out = []
        for file in entry.files:
            path, in_place = self.locate(entry, file)
            if path is None:
                out.append(FileStatus(file, None, "missing"))
                continue
            known = self._stamped(path, data)
            state: State = "unverified" if known is None else ("verified" if known == file.sha256 else "bad")
            if path.stat().st_size != file.size:   # truncated or replaced: no need to hash it to know
                state = "bad"
            out.append(FileStatus(file, path, state, in_place))
        return out

    def verify_file(self, entry: CatalogEntry, file: ModelFile,
                    on_progress: ProgressCallback = ignore) -> FileStatus:
        """Hash one file now; a good one gets a stamp so later checks are instant."""
        path, in_place = self.locate(entry, file)
        if path is None:
            return FileStatus(file, None, "missing")
        digest = self._hash(path, file.name, on_progress)
        if digest != file.sha256:
            return FileStatus(file, path, "bad", in_place)
        self.stamp(path, digest)
        return FileStatus(file, path, "verified", in_place)

    @staticmethod
    def _hash(path: Path, label: str, on_progress: ProgressCallback) -> str:
        total = path.stat().st_size
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            on_progress(Progress(f"verify {label}", done, total, "B"))

        return sha256_file(path, tick)

    def installed(self, entry: CatalogEntry) -> bool:
        """Whether ``entry`` was installed here (complete or not: a deleted file still counts)."""
        return self.folder(entry).is_dir() or any(s.state != "missing" for s in self.status(entry))

    def verify(self, entry: CatalogEntry, on_progress: ProgressCallback = ignore) -> list[FileStatus]:
        return self.status(entry, rehash=True, on_progress=on_progress)

    def path(self, entry: CatalogEntry) -> Path:
        """The main file, or for multi-file models the folder that holds them all."""
        if entry.main:
            return self.folder(entry) / entry.main
        return self.folder(entry)

    # -- user files --------------------------------------------------------------------------------
    def add(self, path: str | os.PathLike[str], on_progress: ProgressCallback = ignore) -> list[tuple[str, str]]:
        """Recognise a user's file (or every file under a folder) by hash and link it in, without copying."""
        src = Path(path).expanduser().absolute()
        if src.is_dir():
            files = sorted(p for p in src.rglob("*") if p.is_file())
        else:
            files = [check_input_file(src, "model file")]
        known = by_hash()
        sizes = {f.size for _, f in known.values()}
        found: list[tuple[str, str]] = []
        for f in files:
            if f.stat().st_size not in sizes:
                continue
            digest = self._hash(f, f.name, on_progress)
            if digest not in known:
                continue
            entry, mf = known[digest]
            link = self.canonical(entry, mf)
            with warehouse_errors(self.root), self.lock(entry):
                link.parent.mkdir(parents=True, exist_ok=True)
                if link.is_symlink() or link.exists():
                    link.unlink()
                link.symlink_to(f.resolve())
            self.stamp(link, digest)
            found.append((entry.name, mf.name))
        if not found:
            raise InvalidInputError(f"{src} holds no file of the model catalog (no sha256 matched); "
                                    f"`animstudio models list` shows what is known")
        return found

    def remove(self, entry: CatalogEntry) -> bool:
        """Delete the warehouse copy; files added in place are only unlinked, never deleted."""
        folder = self.folder(entry)
        if not folder.exists() and not folder.is_symlink():
            return False
        with warehouse_errors(self.root), self.lock(entry):
            stale = [str(p.resolve()) for p in folder.rglob("*")]
            shutil.rmtree(folder)  # removes links, not what they point to
        with self._updating() as data:
            for key in stale:
                data["stamps"].pop(key, None)
        return True


def resolve(name: str, warehouse: Warehouse | None = None) -> Path:
    """Path of an installed, verified model (hashing it once if it has no stamp yet)."""
    entry = get_entry(name)
    wh = warehouse or Warehouse()
    statuses = wh.status(entry)
    if any(s.state == "missing" for s in statuses):
        raise ModelNotInstalledError(f"model {name} is not installed; run `animstudio models install {name}`")
    if any(s.state == "unverified" for s in statuses):
        statuses = wh.verify(entry)
    bad = [s for s in statuses if s.state == "bad"]
    if bad:
        raise ModelHashMismatchError(f"{bad[0].path} does not match the catalog's sha256 for {name}; "
                                     f"reinstall it: `animstudio models remove {name}` then "
                                     f"`animstudio models install {name}`")
    return wh.path(entry)
