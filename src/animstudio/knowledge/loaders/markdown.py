"""Markdown, split at headings: each chunk carries its heading path, in its meta and ahead of its text.

    >>> [s.path for s in sections("# Characters\\n## Rick\\nA scientist.\\n")]
    [('Characters', 'Rick')]
    # load_markdown gives the chunk "Characters > Rick\\n\\nA scientist." with meta heading="Characters > Rick"

Headings are ATX (``## Rick``) and one-line setext (``Rick`` over ``====`` or ``----``). Fenced code
blocks are never split and a ``#`` line inside one is not a heading; YAML front matter is kept whole
in the text before the first heading. Sections without text of their own (a heading followed at once
by a sub-heading) give no chunk: their title lives on in the sub-sections' paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from animstudio.knowledge.loaders.chunk import Scalar
from animstudio.knowledge.loaders.decoding import read_text
from animstudio.knowledge.loaders.text import split_text

_ATX = re.compile(r"^ {0,3}(#{1,6})(?=[ \t]|$)(.*)$")
_ATX_CLOSING = re.compile(r"(?:^|[ \t]+)#+$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_NOT_A_TITLE = re.compile(r"^(?: {4}|\s*(?:[-*+>]|\d+[.)])(?:\s|$))")  # code, list item, quote


@dataclass
class Section:
    path: tuple[str, ...]
    line: int  # of the body's first line
    body: str
    code_blocks: list[tuple[int, int]] = field(default_factory=list)  # (start, end) offsets into body


class _Builder:
    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.headings: list[tuple[int, str]] = []
        self.lines: list[str] = []
        self.blocks: list[tuple[int, int]] = []  # first and last line index of each kept-whole block
        self.first_line = 1

    def heading(self, level: int, title: str, line_no: int) -> None:
        self.flush()
        while self.headings and self.headings[-1][0] >= level:
            self.headings.pop()
        self.headings.append((level, title))
        self.first_line = line_no + 1

    def flush(self) -> None:
        lines, blocks = self.lines, self.blocks
        skip = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
        if skip < len(lines):
            starts = [0]
            for line in lines[skip:]:
                starts.append(starts[-1] + len(line) + 1)
            body = "\n".join(lines[skip:])
            spans = [(starts[a - skip], min(starts[b - skip + 1], len(body))) for a, b in blocks]
            path = tuple(title for _, title in self.headings if title)
            self.sections.append(Section(path, self.first_line + skip, body, spans))
        self.lines, self.blocks = [], []


def sections(text: str) -> list[Section]:
    lines = text.split("\n")
    out = _Builder()
    fence: tuple[str, int, int] | None = None  # character, length, first line index in out.lines
    i = _front_matter(lines, out)
    while i < len(lines):
        line = lines[i]
        i += 1
        if fence:
            out.lines.append(line)
            close = _FENCE.match(line)
            if close and close.group(1)[0] == fence[0] and len(close.group(1)) >= fence[1] and \
                    not close.group(2).strip():
                out.blocks.append((fence[2], len(out.lines) - 1))
                fence = None
            continue
        opening = _FENCE.match(line)
        if opening and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            fence = (opening.group(1)[0], len(opening.group(1)), len(out.lines))
            out.lines.append(line)
            continue
        atx = _ATX.match(line)
        if atx:
            out.heading(len(atx.group(1)), _ATX_CLOSING.sub("", atx.group(2).strip()).strip(), i)
            continue
        if _SETEXT.match(line) and _setext_title(out):
            title = out.lines.pop().strip()
            out.heading(1 if line.strip()[0] == "=" else 2, title, i)
            continue
        out.lines.append(line)
    if fence:  # an unclosed fence runs to the end of the document
        out.blocks.append((fence[2], len(out.lines) - 1))
    out.flush()
    return out.sections


def _front_matter(lines: list[str], out: _Builder) -> int:
    """Lines of YAML front matter go into the first section as one kept-whole block."""
    if not lines or lines[0].strip() != "---":
        return 0
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return 0
    out.lines.extend(lines[:end + 1])
    out.blocks.append((0, end))
    return end + 1


def _setext_title(out: _Builder) -> bool:
    """Whether the line before an underline is a one-line paragraph (not code, a list item or a quote)."""
    lines = out.lines
    if not lines or not lines[-1].strip() or _NOT_A_TITLE.match(lines[-1]):
        return False
    if out.blocks and out.blocks[-1][1] == len(lines) - 1:
        return False
    return len(lines) == 1 or not lines[-2].strip()


def load_markdown(p: Path, chunk_chars: int, overlap_chars: int) -> Iterator[tuple[str, dict[str, Scalar]]]:
    text, encoding = read_text(p, "markdown")
    for section in sections(text):
        heading = " > ".join(section.path)
        for piece in split_text(section.body, chunk_chars, overlap_chars, section.code_blocks):
            meta: dict[str, Scalar] = {"encoding": encoding, "line": section.line + piece.line - 1}
            if heading:
                meta["heading"] = heading
            yield (f"{heading}\n\n{piece.text}" if heading else piece.text), meta
