"""Plain text, and the splitting every loader shares.

    >>> for piece in split_text(text, chunk_chars=1000, overlap_chars=150):
    ...     piece.text, piece.offset, piece.line    # offset in characters, line 1-based
    >>> split_stream(iter_text(path, "utf-8"), 1000, 150)   # the same over blocks: memory stays bounded
    >>> list(pack([40, 40, 40], chunk_chars=90, overlap_chars=50))   # [(0, 2), (1, 3)]

A piece is at most ``chunk_chars`` long. It ends at the last paragraph break in its second half,
else at the last sentence end there, else a line break, else a space; a run without any is cut at
``chunk_chars``. The next piece starts up to ``overlap_chars`` earlier: at a sentence start in the
first half of that tail, else at a word start. Spans in ``keep_whole`` (Markdown code blocks) are
never cut: a piece stops before one, or holds it whole, longer than ``chunk_chars`` if it must be.

``pack`` groups short items (subtitle cues, ``key: value`` lines) the same way without ever cutting one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from animstudio.errors import InvalidInputError
from animstudio.knowledge.loaders.chunk import Scalar
from animstudio.knowledge.loaders.decoding import detect_encoding, iter_text, refuse_blank

MIN_CHUNK_CHARS = 50
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*\s+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Piece:
    text: str
    offset: int  # of the first character of ``text`` in the whole text (newlines counted as one)
    line: int


def check_sizes(chunk_chars: int, overlap_chars: int) -> None:
    if not isinstance(chunk_chars, int) or chunk_chars < MIN_CHUNK_CHARS:
        raise InvalidInputError(f"chunk_chars={chunk_chars!r} is too small; use at least {MIN_CHUNK_CHARS} "
                                f"characters (the default is 1000)")
    if not isinstance(overlap_chars, int) or not 0 <= overlap_chars < chunk_chars / 2:
        raise InvalidInputError(f"overlap_chars={overlap_chars!r} must be from 0 to less than half of "
                                f"chunk_chars ({chunk_chars}); the default is 150")


def split_text(text: str, chunk_chars: int, overlap_chars: int,
               keep_whole: Sequence[tuple[int, int]] = ()) -> Iterator[Piece]:
    return split_stream([text], chunk_chars, overlap_chars, keep_whole)


def split_stream(blocks: Iterable[str], chunk_chars: int, overlap_chars: int,
                 keep_whole: Sequence[tuple[int, int]] = ()) -> Iterator[Piece]:
    """Pieces of the text the blocks make up; ``keep_whole``: (start, end) offsets into that text."""
    check_sizes(chunk_chars, overlap_chars)
    spans = sorted(keep_whole)
    blocks = iter(blocks)
    buf, base, pos, line = "", 0, 0, 1  # buf[0] is at offset base; the next piece starts at buf[pos]
    text_end: int | None = None  # in buf, once the last block is in: where the non-blank text ends
    while True:
        while text_end is None and (len(buf) - pos <= chunk_chars or (spans and spans[-1][1] > base + len(buf))):
            block = next(blocks, None)
            if block is None:
                text_end = len(buf.rstrip())
            else:
                buf, base, pos = buf[pos:] + block, base + pos, 0
        if text_end is not None and pos >= text_end:
            return
        local = [(s - base, e - base) for s, e in spans if e - base > pos]
        end = _cut(buf, pos, chunk_chars, text_end, local)
        raw = buf[pos:end]
        text = raw.strip()
        if text:
            lead = len(raw) - len(raw.lstrip())
            yield Piece(text, base + pos + lead, line + raw.count("\n", 0, lead))
        if text_end is not None and end >= text_end:
            return
        start = _overlap_start(buf, pos, end, overlap_chars, local)
        line += buf.count("\n", pos, start)
        pos = start


def _cut(buf: str, start: int, chunk_chars: int, text_end: int | None, spans: list[tuple[int, int]]) -> int:
    limit = start + chunk_chars
    if text_end is not None and limit >= text_end:
        end = text_end
    else:
        end = _boundary(buf, start + chunk_chars // 2, limit)
    for s, e in spans:
        if s < end < e:
            return e if e <= limit or s <= start else s
    return end


def _boundary(buf: str, lo: int, hi: int) -> int:
    """Where to end a piece within (lo, hi]: after a paragraph break, a sentence, a line, a word."""
    i = buf.rfind("\n\n", lo, hi)
    if i >= 0:
        return i + 2
    sentences = [m.end() for m in _SENTENCE_END.finditer(buf, lo, hi)]
    if sentences:
        return sentences[-1]
    i = buf.rfind("\n", lo, hi)
    if i >= 0:
        return i + 1
    i = max(buf.rfind(" ", lo, hi), buf.rfind("\t", lo, hi))
    return i + 1 if i >= 0 else hi


def _overlap_start(buf: str, start: int, end: int, overlap: int, spans: list[tuple[int, int]]) -> int:
    if overlap == 0 or any(s == end for s, _ in spans):
        return end  # a code block starts the next piece afresh
    lo = max(end - overlap, start + 1)
    sentence = _SENTENCE_END.search(buf, lo, end)
    if sentence and sentence.end() < end and sentence.end() - lo <= (end - lo) // 2:
        nxt = sentence.end()
    elif buf[lo - 1].isspace():
        nxt = lo
    else:
        space = _SPACE.search(buf, lo, end)
        nxt = space.end() if space and space.end() < end else lo
    for s, e in spans:
        if s < nxt < e:
            return e
    return nxt


def pack(sizes: Sequence[int], chunk_chars: int, overlap_chars: int) -> Iterator[tuple[int, int]]:
    """Ranges ``[first, last)`` of items whose lengths are ``sizes``, each range at most ``chunk_chars``
    joined with newlines; its last items, up to ``overlap_chars``, start the next range too. An item
    longer than ``chunk_chars`` is a range of its own (the caller splits it)."""
    first, size = 0, -1  # size: of items[first:i] joined by newlines (-1: none yet)
    for i, n in enumerate(sizes):
        if n > chunk_chars:
            if i > first:
                yield first, i
            yield i, i + 1
            first, size = i + 1, -1
            continue
        if i > first and size + 1 + n > chunk_chars:
            yield first, i
            j, carried = i, -1
            while j > first and carried + 1 + sizes[j - 1] <= overlap_chars and \
                    carried + 2 + sizes[j - 1] + n <= chunk_chars:
                carried += 1 + sizes[j - 1]
                j -= 1
            first, size = j, carried
        size += 1 + n
    if len(sizes) > first:
        yield first, len(sizes)


def load_text(p: Path, chunk_chars: int, overlap_chars: int) -> Iterator[tuple[str, dict[str, Scalar]]]:
    """Plain text, streamed: a file of any size is read one block at a time."""
    encoding = detect_encoding(p)
    found = False
    for piece in split_stream(iter_text(p, encoding), chunk_chars, overlap_chars):
        found = True
        yield piece.text, {"encoding": encoding, "line": piece.line, "offset": piece.offset}
    if not found:
        refuse_blank(p)
