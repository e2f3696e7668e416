"""Safe output files: checked before work starts, written to a temp path, renamed when complete.

    >>> with atomic_output("out/clip.mp4") as tmp:   # tmp: out/.clip.mp4.<random>.tmp.mp4
    ...     render_to(tmp)
    # out/clip.mp4 appears only if the block finished; on error the temp file is removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from animstudio.errors import InvalidInputError, MediaUnreadableError


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
