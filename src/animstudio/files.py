"""Safe output files: checked before work starts, written to a temp path, renamed when complete.

    >>> with atomic_output("out/clip.mp4") as tmp:   # tmp: out/.clip.mp4.<random>.tmp.mp4
    ...     render_to(tmp)
    # out/clip.mp4 appears only if the block finished; on error the temp file is removed.

Output folders are the same: built beside the target, then moved in. A folder that holds files
the command did not write is refused before any work, so nothing of the user's is ever replaced:

    >>> with output_folder("out/scene3", "voice batch") as tmp:
    ...     (tmp / "mix.wav").write_bytes(...)
    # out/scene3 gets mix.wav; files of an earlier `voice batch` run there are replaced, nothing else
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from animstudio.errors import InvalidInputError, MediaUnreadableError

VIDEO_FILES = (".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v")   # the videos a job takes as its clip


def suffixes(*names: str) -> dict[str, Any]:
    """A field's schema annotation naming the suffixes of the files it takes (".mp4"): put into a
    tool's schema with ``Field(json_schema_extra=suffixes(...))``; a planner decoding under the tool's
    planning schema can then only name files the tool can write, and a form can filter its picker."""
    return {"suffixes": [n if n.startswith(".") else f".{n}" for n in names]}


def check_input_file(path: str | os.PathLike[str], what: str = "input file") -> Path:
    """Return ``path`` as a Path if it is a readable, non-empty file; otherwise a one-line error."""
    p = Path(path).expanduser()
    if not p.exists():
        raise MediaUnreadableError(f"{what} {p} does not exist; check the path")
    if p.is_dir():
        raise MediaUnreadableError(f"{what} {p} is a folder; pass a file inside it")
    if not os.access(p, os.R_OK):
        raise MediaUnreadableError(f"{what} {p} cannot be read (permission denied); fix its permissions")
    if p.stat().st_size == 0:
        raise MediaUnreadableError(f"{what} {p} is empty (0 bytes); re-export or re-download it")
    return p


def check_output_path(path: str | os.PathLike[str], what: str = "output") -> Path:
    """Make sure ``path``'s folder exists (creating it) and accepts new files; return ``path``."""
    p = Path(path).expanduser()
    if p.is_dir():
        raise InvalidInputError(f"{what} {p} is a folder; give a file name inside it, e.g. {p / 'out.mp4'}")
    folder = p.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".animstudio-probe-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InvalidInputError(f"cannot write to folder {folder} ({reason}); "
                                f"choose another output location or fix its permissions") from exc
    return p


def temp_sibling(path: Path) -> Path:
    """A unique temp path beside ``path`` that keeps its extension (ffmpeg picks formats by it)."""
    stem = path.stem[:100]  # room for the random part within the 255-byte name limit
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{stem}.", suffix=".tmp" + path.suffix[:20])
    os.close(fd)
    os.chmod(name, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
    return Path(name)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], what: str = "output") -> Iterator[Path]:
    """Yield a temp path for writing; rename it onto ``path`` only when the block succeeds."""
    final = check_output_path(path, what)
    try:
        tmp = temp_sibling(final)
    except OSError as exc:
        raise InvalidInputError(f"cannot write {final} ({exc.strerror or exc}); choose a shorter name or "
                                f"another location") from exc
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


OWNER_FILE = ".animstudio-output.json"   # in an output folder: the command that wrote it and its files


def _owned(folder: Path) -> dict[str, Any] | None:
    """What an earlier run wrote into ``folder`` (its command and files), or None."""
    try:
        data = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(data, dict) and isinstance(data.get("command"), str) and isinstance(data.get("files"), list)
    return data if ok else None


def check_output_folder(path: str | os.PathLike[str], command: str) -> Path:
    """``path`` as a Path if ``command`` may write its files there: a new folder, an empty one, or one
    that an earlier run of the same command wrote (whose other files are then left alone)."""
    out = Path(path).expanduser()
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"output {out} is a file; give the name of a new folder")
    if out.is_dir():
        owner = _owned(out)
        theirs = [p for p in out.iterdir() if p.name != OWNER_FILE]
        if theirs and (owner is None or owner["command"] != command):
            raise InvalidInputError(f"output folder {out} already holds files that `animstudio {command}` did not "
                                    f"write; choose a new or empty folder (nothing in it was changed)")
    _check_writable(out.parent)
    return out


def _check_writable(folder: Path) -> None:
    """Refuse ``folder`` unless files can be made in it (or in its nearest existing parent, where it
    would be made). Nothing is created: outputs are checked before the work, made after it."""
    place = folder
    while not place.exists() and place != place.parent:
        place = place.parent
    try:
        if not place.is_dir():
            raise NotADirectoryError(20, "not a folder")
        tempfile.TemporaryDirectory(dir=place, prefix=".animstudio-probe-").cleanup()
    except OSError as exc:
        raise InvalidInputError(f"cannot write to folder {folder} ({exc.strerror or type(exc).__name__}); "
                                f"choose another output location or fix its permissions") from exc


def check_output_file(path: str | os.PathLike[str], what: str, suffixes: Sequence[str] = ()) -> Path:
    """``path`` as a Path if a file may be written there: not a folder, named with one of ``suffixes``
    (any, when empty), in a folder that exists or can be made and accepts new files. Nothing is created."""
    p = Path(path).expanduser()
    example = f"{what.replace(' ', '-')}{suffixes[0] if suffixes else ''}"
    if p.is_dir():
        raise InvalidInputError(f"{what} {p} is a folder; give a file name inside it, e.g. {p / example}")
    if suffixes and p.suffix.lower() not in suffixes:
        found = f"is named {p.suffix}" if p.suffix else "has no suffix"
        names = suffixes[0] if len(suffixes) == 1 else f"{', '.join(suffixes[:-1])} or {suffixes[-1]}"
        raise InvalidInputError(f"{what} {p} {found}; name it {names} (the suffix picks the format), "
                                f"e.g. {p.with_suffix(suffixes[0]).name}")
    _check_writable(p.parent)
    return p


def read_text_file(path: str | os.PathLike[str], what: str) -> str:
    """The text of a UTF-8 file (a byte order mark is dropped); a binary file is a one-line error."""
    p = check_input_file(path, what)
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{what} {p} is not a UTF-8 text file (byte {exc.start} is not UTF-8); "
                                "pass a text file, saved as UTF-8") from exc
    if "\x00" in text:
        raise InvalidInputError(f"{what} {p} is not a UTF-8 text file (it holds NUL bytes); "
                                "pass a text file, saved as UTF-8")
    return text


@contextlib.contextmanager
def output_folder(path: str | os.PathLike[str], command: str) -> Iterator[Path]:
    """Yield an empty temp folder beside ``path``; when the block succeeds, move its files into ``path``.

    Only the command's own files change: the files of its earlier run there are replaced or removed,
    anything else in the folder stays. On error nothing in ``path`` has changed."""
    out = check_output_folder(path, command)
    made = [p for p in out.parents if not p.exists()]   # deepest first
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name[:100]}.", suffix=".part"))
    try:
        yield tmp
        _move_in(tmp, check_output_folder(out, command), command)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for folder in made:   # the folders made for it, if nothing else was put there meanwhile
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _move_in(tmp: Path, out: Path, command: str) -> None:
    files = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file() and p.name != OWNER_FILE)
    owner = {"command": command, "files": files}
    if not out.exists() or (out.is_dir() and not any(out.iterdir())):
        (tmp / OWNER_FILE).write_text(json.dumps(owner, indent=1), encoding="utf-8")
        for folder in [tmp, *(p for p in tmp.rglob("*") if p.is_dir())]:
            os.chmod(folder, 0o777 & ~_umask())   # mkdtemp makes 0700; outputs get the usual permissions
        if out.exists():
            out.rmdir()
        os.rename(tmp, out)
        return
    before = set((_owned(out) or {}).get("files", []))
    clash = [f for f in files if f not in before and (out / f).exists()]
    if clash:
        raise InvalidInputError(f"{out / clash[0]} was not written by `animstudio {command}`; move it away and run "
                                f"again (nothing in {out} was changed)")
    for name in files:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp / name, out / name)
    for name in sorted(before - set(files)):   # the earlier run's files this run did not write again
        old = out / name
        if old.is_file() and old.resolve().is_relative_to(out.resolve()):
            old.unlink()
            if old.parent != out:
                with contextlib.suppress(OSError):   # its folder, if that is now empty
                    old.parent.rmdir()
    write_text_atomic(out / OWNER_FILE, json.dumps(owner, indent=1))


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    return write_bytes_atomic(path, text.encode("utf-8"))


def sha256_file(path: str | os.PathLike[str], on_bytes: Callable[[int], None] | None = None,
                chunk: int = 4 << 20) -> str:
    """Hex sha256 of a file, reporting bytes read to ``on_bytes`` (for progress bars)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
            if on_bytes:
                on_bytes(len(block))
    return digest.hexdigest()


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if needed) between processes."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
