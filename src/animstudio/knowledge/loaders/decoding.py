"""Documents read as text: binary files refused, the encoding found honestly, big files streamed.

    >>> encoding = detect_encoding(path)       # "utf-8", "utf-8-sig", "utf-16", "utf-32" or "cp1252"
    >>> for block in iter_text(path, encoding):  # blocks of up to 64 Ki characters, newlines as "\\n"
    ...     ...
    >>> text, encoding = read_text(path, "yaml")   # the whole file (up to MAX_WHOLE_BYTES), never blank

The encoding, in this order: a byte-order mark (UTF-8, UTF-16, UTF-32); UTF-8, checked over the
whole file before anything is read as text; then Windows-1252 (the "ANSI" text of Western European
languages, which holds Latin-1's printable characters), only where every byte is defined in it and
non-ASCII bytes mostly stand alone between ASCII ones, as accented letters do in those languages.
Anything else is refused: a guess between Cyrillic, Greek or East Asian code pages would index
garbled text.
"""

from __future__ import annotations

import codecs
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

from animstudio.errors import InvalidInputError
from animstudio.knowledge.loaders.kinds import MAX_WHOLE_BYTES, SUPPORTED_HELP

HEAD_BYTES = 8192
BLOCK_CHARS = 1 << 16
_READ_BYTES = 1 << 20
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
# Control bytes text does not hold (all but tab, newlines, form feed and escape), and bytes Windows-1252 leaves out
_ODD = bytes(sorted(set(range(32)) - {9, 10, 11, 12, 13, 27})) + b"\x81\x8d\x8f\x90\x9d"
_HIGH = bytes(range(128, 256))
_HIGH_RUN = re.compile(rb"[\x80-\xff]{2,}")


def check_file(path: str | os.PathLike[str]) -> Path:
    """The absolute path of a readable, non-empty file; otherwise a one-line error."""
    p = Path(path).expanduser()
    if not p.exists():
        raise InvalidInputError(f"document {p} does not exist; check the path")
    if not p.is_file():
        raise InvalidInputError(f"document {p} is not a file; pass the files inside it")
    if not os.access(p, os.R_OK):
        raise InvalidInputError(f"document {p} cannot be read (permission denied); fix its permissions")
    if p.stat().st_size == 0:
        raise InvalidInputError(f"document {p} is empty (0 bytes); pass a file with text in it")
    return p.resolve()


def read_head(p: Path) -> bytes:
    with open(p, "rb") as fh:
        return fh.read(HEAD_BYTES)


def bom_encoding(head: bytes) -> str | None:
    return next((name for bom, name in _BOMS if head.startswith(bom)), None)


def looks_binary(head: bytes) -> bool:
    """True for NUL bytes without a byte-order mark, or (in what is not UTF-8) more than 1% of bytes that
    are control codes or undefined in Windows-1252."""
    if bom_encoding(head):
        return False
    if b"\0" in head:
        return True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return False
    except UnicodeDecodeError:
        return len(head) - len(head.translate(None, _ODD)) > len(head) // 100


def refuse_binary(p: Path) -> NoReturn:
    raise InvalidInputError(f"{p} is a binary file, not a text document (NUL or undecodable bytes in its first "
                            f"8 KB); pass {SUPPORTED_HELP}, as text saved in UTF-8")


def detect_encoding(p: Path) -> str:
    head = read_head(p)
    if bom := bom_encoding(head):
        return bom
    if looks_binary(head):
        refuse_binary(p)
    bad = _first_non_utf8(p)
    if bad is None:
        return "utf-8"
    _check_cp1252(p, *bad)
    return "cp1252"


def _first_non_utf8(p: Path) -> tuple[int, int] | None:
    """(line, byte) of the first byte that is not UTF-8, or None when the whole file is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line = 1
    with open(p, "rb") as fh:
        while True:
            block = fh.read(_READ_BYTES)
            pending = decoder.getstate()[0]  # an unfinished character from the last block: no newline in it
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                data = pending + block
                return line + data[:exc.start].count(b"\n"), data[exc.start] if exc.start < len(data) else 0
            if not block:
                return None
            line += block.count(b"\n")


def _check_cp1252(p: Path, line: int, byte: int) -> None:
    where = f"{p} is not UTF-8 text (byte 0x{byte:02X} on line {line})"
    high = paired = 0
    with open(p, "rb") as fh:
        while block := fh.read(_READ_BYTES):
            try:
                block.decode("cp1252")
            except UnicodeDecodeError:
                raise InvalidInputError(f"{where} and not Windows-1252 text either; re-save it as UTF-8") from None
            high += len(block) - len(block.translate(None, _HIGH))
            paired += sum(len(run) - 1 for run in _HIGH_RUN.findall(block))
    # Western European text has an accented letter here and there inside plain words ("Café", "ação");
    # Cyrillic, Greek or East Asian text in an 8-bit or double-byte code page is made of runs of them.
    if paired * 2 > high:
        raise InvalidInputError(f"{where} and does not read as Western European (Windows-1252) text; "
                                f"re-save it as UTF-8")


def iter_text(p: Path, encoding: str, block_chars: int = BLOCK_CHARS) -> Iterator[str]:
    """The file's text in blocks, newlines made ``\\n``; memory stays at one block whatever the file size."""
    try:
        with open(p, encoding=encoding, newline=None) as fh:
            while block := fh.read(block_chars):
                yield block
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{p} is not valid {encoding} text ({exc.reason}); re-save it as UTF-8") from None


def iter_lines(p: Path, encoding: str) -> Iterator[str]:
    """The file's lines without their newline, one at a time."""
    try:
        with open(p, encoding=encoding, newline=None) as fh:
            for line in fh:
                yield line.removesuffix("\n")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{p} is not valid {encoding} text ({exc.reason}); re-save it as UTF-8") from None


_TOO_BIG_HINT = {
    "json": "write it as JSON Lines (.jsonl, one record per line), which is read as a stream",
}


def check_size(p: Path, kind: str) -> None:
    """Refuse a file too big to read whole, saying how to index it instead."""
    size = p.stat().st_size
    if size > MAX_WHOLE_BYTES:
        hint = _TOO_BIG_HINT.get(kind, "split it, or rename it to .txt to index it as plain text, which is "
                                       "read as a stream")
        raise InvalidInputError(f"{p} is {size / 2**20:.0f} MB; {kind} files are read whole, up to "
                                f"{MAX_WHOLE_BYTES >> 20} MB: {hint}")


def read_text(p: Path, kind: str) -> tuple[str, str]:
    """The whole text and its encoding, for kinds that parse the whole file; blank files are refused."""
    check_size(p, kind)
    encoding = detect_encoding(p)
    text = "".join(iter_text(p, encoding))
    if not text.strip():
        refuse_blank(p)
    return text, encoding


def refuse_blank(p: Path) -> NoReturn:
    raise InvalidInputError(f"{p} holds only whitespace; pass a document with text in it")
