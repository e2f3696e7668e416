"""The files a voice command reads and writes, checked before any work starts (nothing is created).

    text = read_text_file("lines.txt", "lines file")          # UTF-8 text, else a one-line error
    check_output_file("out/line.wav", "speech", (".wav", ".mp3"))   # a writable file name with that suffix
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from animstudio.errors import InvalidInputError
from animstudio.files import check_input_file


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


def check_output_file(path: str | os.PathLike[str], what: str, suffixes: Sequence[str] = ()) -> Path:
    """``path`` as a Path if a file may be written there: not a folder, named with one of ``suffixes``
    (any, when empty), in a folder that exists or can be made and accepts new files. Nothing is created."""
    p = Path(path).expanduser()
    example = f"{what.replace(' ', '-')}{suffixes[0] if suffixes else ''}"
    if p.is_dir():
        raise InvalidInputError(f"{what} {p} is a folder; give a file name inside it, e.g. {p / example}")
    if suffixes and p.suffix.lower() not in suffixes:
        found = f"is named {p.suffix}" if p.suffix else "has no suffix"
        raise InvalidInputError(f"{what} {p} {found}; name it {either(suffixes)} (the suffix picks the format), "
                                f"e.g. {p.with_suffix(suffixes[0]).name}")
    place = p.parent
    while not place.exists() and place != place.parent:
        place = place.parent
    try:
        if not place.is_dir():
            raise NotADirectoryError(20, "not a folder")
        with tempfile.NamedTemporaryFile(dir=place, prefix=".animstudio-probe-"):
            pass
    except OSError as exc:
        raise InvalidInputError(f"cannot write to folder {p.parent} ({exc.strerror or type(exc).__name__}); "
                                "choose another output location or fix its permissions") from exc
    return p


def either(items: Sequence[str]) -> str:
    """``a, b or c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"
