"""Subtitles (.srt, .vtt, .ass): consecutive cues grouped into chunks, each with its time range.

    >>> next(load_subtitles(Path("ep1.srt"), 1000, 150))
    ("Wubba lubba dub dub!\\nWhat does that mean?", {"start_s": 1.0, "end_s": 4.2, "cues": 2})

A chunk holds one cue per line (a cue's own line breaks become spaces) and the last cues of the chunk
before it, up to ``overlap_chars``; ``start_s`` is its first cue's start and ``end_s`` its last end.
A cue longer than ``chunk_chars`` is split, each piece with that cue's times.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from animstudio.knowledge.loaders.chunk import Scalar
from animstudio.knowledge.loaders.decoding import check_size
from animstudio.knowledge.loaders.text import pack, split_text


def load_subtitles(p: Path, chunk_chars: int, overlap_chars: int) -> Iterator[tuple[str, dict[str, Scalar]]]:
    from animstudio.media.subtitles import read_subtitles  # imported here: it brings in the editing modules

    check_size(p, "subtitles")
    cues = read_subtitles(p)
    lines = [" ".join(cue.text.split()) for cue in cues]
    for first, last in pack([len(line) for line in lines], chunk_chars, overlap_chars):
        group = cues[first:last]
        meta: dict[str, Scalar] = {"start_s": group[0].start_s, "end_s": max(c.end_s for c in group),
                                   "cues": last - first}
        if len(lines[first]) > chunk_chars:
            for piece in split_text(lines[first], chunk_chars, overlap_chars):
                yield piece.text, dict(meta)
        else:
            yield "\n".join(lines[first:last]), meta
