"""The model warehouse: where catalog files live, which are verified, and files users bring.

Layout: ``<warehouse>/<model>/<file>``, plus ``index.json`` with verification stamps (sha256 at a
given size and mtime) and files recognised in place (a user's own copy, found by its hash).

    >>> wh = Warehouse()
    >>> wh.add("~/Downloads/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")   # recognised by hash, not copied
    >>> wh.path(get_entry("qwen2.5-coder-1.5b-instruct"))
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from animstudio.config import load_settings
from animstudio.errors import (
    InvalidInputError,
    ModelHashMismatchError,
    ModelNotInstalledError,
)
from animstudio.files import check_input_file, sha256_file, write_text_atomic
from animstudio.models.catalog import CatalogEntry, ModelFile, by_hash, get_entry
from animstudio.progress import Progress, ProgressCallback, ignore

State = Literal["missing", "unverified", "verified", "bad"]


@dataclass
class FileStatus:
    file: ModelFile
    path: Path | None
    state: State
    in_place: bool = False  # a user's file outside the warehouse, recognised by its hash


class Warehouse:
    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root else load_settings().warehouse
        self.index_path = self.root / "index.json"

    # -- index ---------------------------------------------------------------------------------
    def _index(self) -> dict[str, Any]:
        try:
            data = json.loads(self.index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        data.setdefault("stamps", {})
        data.setdefault("in_place", {})
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.index_path, json.dumps(data, indent=2, sort_keys=True))

    def stamp(self, path: Path, sha256: str) -> None:
        data = self._index()
        st = path.stat()
        data["stamps"][str(path.resolve())] = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        self._save(data)

    def _stamped(self, path: Path, data: dict[str, Any]) -> str | None:
        rec = data["stamps"].get(str(path.resolve()))
        if not rec:
            return None
        st = path.stat()
        return rec["sha256"] if (rec["size"], rec["mtime_ns"]) == (st.st_size, st.st_mtime_ns) else None

    # -- where files are -----------------------------------------------------------------------
    def folder(self, entry: CatalogEntry) -> Path:
        return self.root / entry.name

    def canonical(self, entry: CatalogEntry, file: ModelFile) -> Path:
        return self.folder(entry) / file.name

    def locate(self, entry: CatalogEntry, file: ModelFile,
               data: dict[str, Any] | None = None) -> tuple[Path | None, bool]:
        """(path, in_place) of the file, or (None, False) when it is nowhere."""
        path = self.canonical(entry, file)
        if path.is_file():
            return path, False
        data = data if data is not None else self._index()
        other = data["in_place"].get(f"{entry.name}/{file.name}")
        if other and Path(other).is_file():
            return Path(other), True
        return None, False

    def status(self, entry: CatalogEntry, rehash: bool = False,
               on_progress: ProgressCallback = ignore) -> list[FileStatus]:
        """State of each file. Without ``rehash`` the stamps answer; with it every file is hashed."""
        if rehash:
            return [self.verify_file(entry, f, on_progress) for f in entry.files]
        data = self._index()
        out = []
        for file in entry.files:
            path, in_place = self.locate(entry, file, data)
            if path is None:
                out.append(FileStatus(file, None, "missing"))
                continue
            known = self._stamped(path, data)
            state: State = "unverified" if known is None else ("verified" if known == file.sha256 else "bad")
            out.append(FileStatus(file, path, state, in_place))
        return out

    def verify_file(self, entry: CatalogEntry, file: ModelFile,
                    on_progress: ProgressCallback = ignore) -> FileStatus:
        """Hash one file now; a good one gets a stamp so later checks are instant."""
        path, in_place = self.locate(entry, file)
        if path is None:
            return FileStatus(file, None, "missing")
        digest = self._hash(path, file, on_progress)
        if digest != file.sha256:
            return FileStatus(file, path, "bad", in_place)
        self.stamp(path, digest)
        return FileStatus(file, path, "verified", in_place)

    def _hash(self, path: Path, file: ModelFile, on_progress: ProgressCallback) -> str:
        done = 0

        def tick(n: int) -> None:
            nonlocal done
            done += n
            on_progress(Progress(f"verify {file.name}", done, path.stat().st_size, "B"))

        return sha256_file(path, tick)

    def verify(self, entry: CatalogEntry, on_progress: ProgressCallback = ignore) -> list[FileStatus]:
        return self.status(entry, rehash=True, on_progress=on_progress)

    def path(self, entry: CatalogEntry) -> Path:
        """The main file, or for multi-file models the folder that holds them all."""
        if entry.main:
            main = next(f for f in entry.files if f.name == entry.main)
            found, _ = self.locate(entry, main)
            return found or self.canonical(entry, main)
        data = self._index()
        roots = set()
        for f in entry.files:
            found, _ = self.locate(entry, f, data)
            if found is None:
                return self.folder(entry)
            roots.add(found.parents[len(Path(f.name).parts) - 1])
        if len(roots) == 1:
            return roots.pop()
        return self.folder(entry)

    # -- user files ----------------------------------------------------------------------------
    def add(self, path: str | os.PathLike[str], on_progress: ProgressCallback = ignore) -> list[tuple[str, str]]:
        """Recognise a user's file (or every file under a folder) by hash, in place, without copying."""
        src = Path(path).expanduser()
        if src.is_dir():
            files = sorted(p for p in src.rglob("*") if p.is_file())
        else:
            files = [check_input_file(src, "model file")]
        sizes = {f.size for _, f in by_hash().values()}
        known = by_hash()
        found: list[tuple[str, str]] = []
        data = self._index()
        for f in files:
            if f.stat().st_size not in sizes:
                continue
            digest = sha256_file(f, lambda n, f=f: on_progress(Progress(f"hash {f.name}", n, None, "B")))
            if digest in known:
                entry, mf = known[digest]
                data["in_place"][f"{entry.name}/{mf.name}"] = str(f.resolve())
                st = f.stat()
                data["stamps"][str(f.resolve())] = {"sha256": digest, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
                found.append((entry.name, mf.name))
        if not found:
            raise InvalidInputError(f"{src} holds no file of the model catalog (no sha256 matched); "
                                    f"`animstudio models list` shows what is known")
        self._save(data)
        return found

    def remove(self, entry: CatalogEntry) -> bool:
        """Delete the warehouse copy and forget in-place files (a user's own files are left alone)."""
        data = self._index()
        removed = False
        for file in entry.files:
            removed |= data["in_place"].pop(f"{entry.name}/{file.name}", None) is not None
        folder = self.folder(entry)
        if folder.exists():
            for p in folder.rglob("*"):
                data["stamps"].pop(str(p.resolve()), None)
            shutil.rmtree(folder)
            removed = True
        self._save(data)
        return removed


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
