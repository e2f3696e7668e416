"""Documents as chunks for the knowledge base: text, Markdown, subtitles, PDF, YAML and JSON.

    >>> for chunk in load_chunks("bible/characters.md", chunk_chars=1000, overlap_chars=150):
    ...     chunk.text, chunk.ordinal, chunk.meta, chunk.digest
    ('Characters > Rick\\n\\nRick is a scientist ...', 0,
     {'source': '/home/me/bible/characters.md', 'kind': 'markdown', 'encoding': 'utf-8', 'line': 3,
      'heading': 'Characters > Rick'}, '5f0c...')

The loader is chosen by the file's suffix (``SUPPORTED``), or by its content when the suffix is
unknown or missing. Every chunk's meta has ``source`` (the absolute path) and ``kind``; then, by kind:

- text (streamed, any size): ``encoding``, ``line``, ``offset`` (in characters);
- markdown: ``encoding``, ``line``, ``heading`` ("Characters > Rick", also ahead of the text);
- subtitles: ``start_s``, ``end_s``, ``cues``;
- pdf: ``page``, ``pages``;
- yaml, json, jsonl: ``encoding``, ``key`` (the entry's key path), ``line`` (where known).

Chunks are at most ``chunk_chars`` long (Markdown adds the heading path, and a code block is never
split), and each overlaps the one before by up to ``overlap_chars``. A file that cannot be a
document (missing, empty, binary, undecodable, malformed) raises InvalidInputError, one line saying
what to do; the checks that need no reading happen at the call, the rest while iterating.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from animstudio.errors import InvalidInputError
from animstudio.knowledge.loaders.chunk import Chunk, Scalar
from animstudio.knowledge.loaders.decoding import check_file, looks_binary, read_head, refuse_binary
from animstudio.knowledge.loaders.kinds import KINDS, SUFFIXES
from animstudio.knowledge.loaders.markdown import load_markdown
from animstudio.knowledge.loaders.pdf import load_pdf
from animstudio.knowledge.loaders.sniff import sniff
from animstudio.knowledge.loaders.structured import load_json, load_jsonl, load_yaml
from animstudio.knowledge.loaders.subtitles import load_subtitles
from animstudio.knowledge.loaders.text import check_sizes, load_text

__all__ = ["KINDS", "SUPPORTED", "Chunk", "load_chunks"]

SUPPORTED: tuple[str, ...] = tuple(SUFFIXES)

Loader = Callable[[Path, int, int], Iterator[tuple[str, dict[str, Scalar]]]]
_LOADERS: dict[str, Loader] = {
    "text": load_text, "markdown": load_markdown, "subtitles": load_subtitles, "pdf": load_pdf,
    "yaml": load_yaml, "json": load_json, "jsonl": load_jsonl,
}


def load_chunks(path: str | os.PathLike[str], chunk_chars: int = 1000, overlap_chars: int = 150, *,
                kind: str | None = None) -> Iterator[Chunk]:
    """The chunks of one document, in order; ``kind`` (one of ``KINDS``) overrides the choice by suffix."""
    check_sizes(chunk_chars, overlap_chars)
    p = check_file(path)
    head = read_head(p)
    if kind is None:
        kind = SUFFIXES.get(p.suffix.lower()) or sniff(head)
    elif kind not in KINDS:
        raise InvalidInputError(f"unknown document kind {kind!r}; use one of: {', '.join(KINDS)}")
    if kind == "pdf":
        if b"%PDF-" not in head[:1024]:
            raise InvalidInputError(f"{p} is not a PDF (it has no %PDF- header); re-export it as PDF, or give it "
                                    f"the suffix of what it is")
    elif looks_binary(head):
        refuse_binary(p)
    return _chunks(p, kind, chunk_chars, overlap_chars)


def _chunks(p: Path, kind: str, chunk_chars: int, overlap_chars: int) -> Iterator[Chunk]:
    ordinal = 0
    for text, meta in _LOADERS[kind](p, chunk_chars, overlap_chars):
        yield Chunk(text, ordinal, {"source": str(p), "kind": kind, **meta})
        ordinal += 1
    if not ordinal:
        raise InvalidInputError(f"{p} has no text to index (an empty {kind} document); pass one with content")
