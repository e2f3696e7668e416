"""Subtitle files: .srt, .vtt and .ass read into cues, and .srt and .vtt written. Editing (burn-in),
voice (transcripts) and the knowledge base (film dialogue) all read and write them through here.

Cues are on a timeline in seconds; ``words`` carry per-word timings (a karaoke highlight, a
transcript's word times). Files are written atomically.

    >>> cues = [Cue(1.0, 2.5, "Hello there"),
    ...         Cue(3.0, 4.0, "Bye now", words=[Word(start_s=3.0, end_s=3.4, text="Bye"),
    ...                                          Word(start_s=3.5, end_s=3.9, text="now")])]
    >>> write_srt(cues, "out/captions.srt")
    >>> read_subtitles("from-elsewhere.vtt")   # [Cue(start_s=..., end_s=..., text=..., words=[])]
"""

from __future__ import annotations

import html
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from animstudio.errors import InvalidInputError
from animstudio.files import write_text_atomic

WORD_JOINER = "\u2060"  # zero-width; breaks up `\N`-like sequences in ASS text (Roboto has the glyph)


class Word(BaseModel):
    """A word and when it is said, in seconds on the cue's timeline."""

    model_config = ConfigDict(extra="forbid")

    start_s: float = Field(ge=0)
    end_s: float = Field(ge=0)
    text: str


PathLike = str | os.PathLike[str]

WORD_JOINER = "\u2060"  # zero-width; breaks up `\N`-like sequences in ASS text (Roboto has the glyph)


@dataclass
class Cue:
    """One subtitle on the output timeline; ``words`` (absolute seconds) drive the karaoke highlight."""

    start_s: float
    end_s: float
    text: str
    words: list[Word] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.start_s = float(self.start_s)
        self.end_s = float(self.end_s)
        self.text = _clean_text(str(self.text))
        where = f"subtitle {_preview(self.text)!r} ({self.start_s:g}-{self.end_s:g} s)"
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s)):
            raise InvalidInputError(f"{where} has a time that is not a number; give finite times in seconds")
        if self.start_s < 0:
            raise InvalidInputError(f"{where} starts before 0 s; times must be >= 0 (shift() clips cues at 0)")
        if self.end_s <= self.start_s:
            raise InvalidInputError(f"{where} does not end after it starts; give it a positive duration")
        if not self.text:
            raise InvalidInputError(f"a subtitle at {self.start_s:g}-{self.end_s:g} s has empty text; "
                                    f"give it text or leave it out")
        self.words = [w if isinstance(w, Word) else Word.model_validate(w) for w in self.words]
        for w in self.words:
            if w.end_s < w.start_s:
                raise InvalidInputError(f"word {w.text!r} of {where} ends before it starts; fix its timing")


def _clean_text(text: str) -> str:
    """Lines stripped, blank lines dropped (a blank line ends a cue in .srt and .vtt)."""
    lines = (line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 40 else flat[:37] + "..."


def checked_cues(cues: list[Cue]) -> list[Cue]:
    """Cues validated again (fields may have been changed after creation), sorted by start."""
    out = []
    for i, c in enumerate(cues, 1):
        try:
            out.append(Cue(c.start_s, c.end_s, c.text, list(c.words)))
        except InvalidInputError as exc:
            raise InvalidInputError(f"cue {i}: {exc}") from None
    return sorted(out, key=lambda c: (c.start_s, c.end_s))


def shift(cues: list[Cue], seconds: float) -> list[Cue]:
    """Cues (and their words) moved by ``seconds``; what ends up before 0 s is clipped or dropped."""
    out = []
    for c in cues:
        start, end = max(0.0, c.start_s + seconds), c.end_s + seconds
        if end <= start:
            continue
        words = [Word(start_s=max(0.0, w.start_s + seconds), end_s=w.end_s + seconds, text=w.text)
                 for w in c.words if w.end_s + seconds > 0]
        out.append(Cue(start, end, c.text, words))
    return out


# ---------------------------------------------------------------- reading


_SRT_TIME = r"(\d+):(\d{1,2}):(\d{1,2})[,.](\d{1,3})"
_SRT_TIMING = re.compile(rf"^\s*{_SRT_TIME}\s*-->\s*{_SRT_TIME}(?:\s.*)?$")
_VTT_TIME = r"(?:(\d+):)?(\d{2}):(\d{2})\.(\d{3})"
_VTT_TIMING = re.compile(rf"^\s*{_VTT_TIME}\s+-->\s+{_VTT_TIME}(?:\s.*)?$")
_ASS_TIME = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2})(?:\.(\d{1,3}))?\s*$")
_SRT_TAGS = re.compile(r"</?(?:b|i|u|s|font)\b[^>]*>|\{\\[^}]*\}", re.I)
_VTT_TAGS = re.compile(r"<[^>]*>")
_ASS_BLOCK = re.compile(r"(?<!\\)\{([^}]*)\}")
_ASS_KARAOKE = re.compile(r"\\(kf|ko|k|K)\s*(\d+(?:\.\d*)?)")


def _seconds(h: str | None, m: str, s: str, frac: str | None) -> float:
    """Exact seconds from clock fields; the fraction is in decimal digits (``5`` = 0.5 s)."""
    frac = (frac or "").ljust(3, "0")[:3]
    ms = ((int(h or 0) * 60 + int(m)) * 60 + int(s)) * 1000 + int(frac)
    return ms / 1000


def read_subtitles(path: PathLike) -> list[Cue]:
    """Cues of an .srt, .vtt or .ass/.ssa file (ASS: Dialogue lines, override tags stripped, karaoke
    tags read back as words). A malformed or empty file raises InvalidInputError naming file and line."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise InvalidInputError(f"subtitle file {p} does not exist; check the path")
    text = _decode(p)
    kind = _kind(p, text)
    cues = {"srt": _parse_srt, "vtt": _parse_vtt, "ass": _parse_ass}[kind](p, text.splitlines())
    if not cues:
        raise InvalidInputError(f"{p} has no subtitles in it; pass a {kind} file with at least one cue")
    return cues


def _decode(p: Path) -> str:
    data = p.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InvalidInputError(f"{p}:{line}: not UTF-8 text; re-save the file as UTF-8") from None


def _kind(p: Path, text: str) -> str:
    head = text.lstrip()[:200]
    if head.startswith("WEBVTT"):
        return "vtt"
    if head.startswith("[Script Info]") or re.search(r"^\[Events\]", text, re.M):
        return "ass"
    suffix = p.suffix.lower()
    if suffix in (".srt", ".vtt", ".ass", ".ssa"):
        return {".ssa": "ass"}.get(suffix, suffix[1:])
    if _SRT_TIMING.search(head) or re.match(r"\d+\s*\n", head):
        return "srt"
    raise InvalidInputError(f"{p} is not a subtitle file this reads; pass an .srt, .vtt or .ass file")


def _make_cue(p: Path, line_no: int, start: float, end: float, text: str, words: list[Word] | None = None,
              ) -> Cue | None:
    if end == start:
        return None  # a zero-length cue shows nothing; some tools write them
    try:
        return Cue(start, end, text, words or [])
    except InvalidInputError as exc:
        raise InvalidInputError(f"{p}:{line_no}: {exc}") from None


def _parse_srt(p: Path, lines: list[str]) -> list[Cue]:
    cues: list[Cue] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        if line.isdigit() and not _SRT_TIMING.match(line):
            i += 1  # the cue number; its timing comes next
        timing = _SRT_TIMING.match(lines[i]) if i < len(lines) else None
        if not timing:
            found = _preview(lines[i]) if i < len(lines) else "the end of the file"
            raise InvalidInputError(f"{p}:{min(i, len(lines) - 1) + 1}: expected a timing like "
                                    f"'00:00:01,000 --> 00:00:02,500', found {found!r}; fix that line")
        g = timing.groups()
        start, end = _seconds(*g[:4]), _seconds(*g[4:])
        timing_line = i + 1
        text_lines = []
        i += 1
        while i < len(lines) and lines[i].strip() and not _SRT_TIMING.match(lines[i]):
            if lines[i].strip().isdigit() and i + 1 < len(lines) and _SRT_TIMING.match(lines[i + 1]):
                break  # the next cue, without a blank line before it
            text_lines.append(_SRT_TAGS.sub("", lines[i]))
            i += 1
        if end < start:
            raise InvalidInputError(f"{p}:{timing_line}: the cue ends before it starts; fix its timing")
        cue = _make_cue(p, timing_line, start, end, "\n".join(text_lines))
        if cue:
            cues.append(cue)
    return cues


def _parse_vtt(p: Path, lines: list[str]) -> list[Cue]:
    if not lines or not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0].lstrip("\ufeff")):
        raise InvalidInputError(f"{p}:1: a WebVTT file must start with the line 'WEBVTT'; add it or rename "
                                f"the file to .srt")
    cues: list[Cue] = []
    i = 1
    while i < len(lines) and lines[i].strip():  # header lines up to the first blank line
        i += 1
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        block_start = i
        block = []
        while i < len(lines) and lines[i].strip():
            block.append(lines[i])
            i += 1
        first = block[0].strip()
        if re.match(r"^(NOTE|STYLE|REGION)(\s|$)", first):
            continue
        timing_at = 0 if "-->" in block[0] else 1
        timing = _VTT_TIMING.match(block[timing_at]) if timing_at < len(block) else None
        if not timing:
            raise InvalidInputError(f"{p}:{block_start + timing_at + 1}: expected a timing like "
                                    f"'00:01.000 --> 00:02.500'; fix that line")
        g = timing.groups()
        start, end = _seconds(*g[:4]), _seconds(*g[4:])
        line_no = block_start + timing_at + 1
        if end < start:
            raise InvalidInputError(f"{p}:{line_no}: the cue ends before it starts; fix its timing")
        text = "\n".join(html.unescape(_VTT_TAGS.sub("", t)) for t in block[timing_at + 1:])
        cue = _make_cue(p, line_no, start, end, text)
        if cue:
            cues.append(cue)
    return cues


_ASS_DEFAULT_FORMAT = ["layer", "start", "end", "style", "name", "marginl", "marginr", "marginv", "effect", "text"]


def _ass_time(p: Path, line_no: int, value: str) -> float:
    m = _ASS_TIME.match(value)
    if not m:
        raise InvalidInputError(f"{p}:{line_no}: bad time {value.strip()!r}; ASS times look like 0:00:01.50")
    return _seconds(*m.groups())


def _parse_ass(p: Path, lines: list[str]) -> list[Cue]:
    cues: list[Cue] = []
    section = ""
    fields = _ASS_DEFAULT_FORMAT
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line.lower()
            continue
        if section != "[events]":
            continue
        key, sep, rest = line.partition(":")
        if not sep:
            continue
        if key.strip().lower() == "format":
            fields = [f.strip().lower() for f in rest.split(",")]
            if not {"start", "end", "text"} <= set(fields) or fields[-1] != "text":
                raise InvalidInputError(f"{p}:{n}: the Events Format line must list Start, End and, last, Text")
            continue
        if key.strip().lower() != "dialogue":
            continue
        values = rest.lstrip().split(",", len(fields) - 1)
        if len(values) != len(fields):
            raise InvalidInputError(f"{p}:{n}: this Dialogue line has {len(values)} fields, the Format line "
                                    f"{len(fields)}; fix the line")
        row = dict(zip(fields, values, strict=True))
        start, end = _ass_time(p, n, row["start"]), _ass_time(p, n, row["end"])
        if end < start:
            raise InvalidInputError(f"{p}:{n}: the Dialogue line ends before it starts; fix its timing")
        text, words = _ass_text(row["text"], round(start * 100), round(end * 100))
        cue = _make_cue(p, n, start, end, text, words)
        if cue:
            cues.append(cue)
    return cues


def _ass_plain(text: str) -> str:
    text = text.replace("\\N", "\n").replace("\\n", " ").replace("\\h", " ")
    return text.replace("\\{", "{").replace("\\}", "}").replace("\\" + WORD_JOINER, "\\")


def _ass_text(text: str, start_cs: int, end_cs: int) -> tuple[str, list[Word]]:
    """Plain text of an ASS event, and its karaoke syllables as words (absolute seconds)."""
    plain: list[str] = []
    syllables: list[list] = []  # [start cs, end cs, text]
    cursor = 0
    pos = 0
    for m in _ASS_BLOCK.finditer(text):
        chunk = _ass_plain(text[pos:m.start()])
        plain.append(chunk)
        if syllables:
            syllables[-1][2] += chunk
        for tag in _ASS_KARAOKE.finditer(m.group(1)):
            duration = round(float(tag.group(2)))
            syllables.append([cursor, cursor + duration, ""])
            cursor += duration
        pos = m.end()
    tail = _ass_plain(text[pos:])
    plain.append(tail)
    if syllables:
        syllables[-1][2] += tail
    words = [Word(start_s=min(start_cs + a, end_cs) / 100, end_s=min(start_cs + b, end_cs) / 100, text=t.strip())
             for a, b, t in syllables if t.strip()]
    return "".join(plain), words


# ---------------------------------------------------------------- writing


def _clock(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _ms_span(c: Cue) -> tuple[float, float]:
    """Start and end rounded to milliseconds, at least 1 ms apart."""
    start = round(c.start_s * 1000)
    return start / 1000, max(start + 1, round(c.end_s * 1000)) / 1000


def write_srt(cues: list[Cue], path: PathLike) -> Path:
    """An .srt file (UTF-8, ``HH:MM:SS,mmm``), cues sorted by start, multi-line text kept."""
    blocks = []
    for i, c in enumerate(checked_cues(cues), 1):
        start, end = _ms_span(c)
        blocks.append(f"{i}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{c.text}\n")
    return write_text_atomic(path, "\n".join(blocks))


def write_vtt(cues: list[Cue], path: PathLike) -> Path:
    """A WebVTT file (``HH:MM:SS.mmm``), cues sorted by start; ``&``, ``<`` and ``>`` escaped."""
    blocks = ["WEBVTT\n"]
    for c in checked_cues(cues):
        start, end = _ms_span(c)
        text = c.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        blocks.append(f"{_clock(start, '.')} --> {_clock(end, '.')}\n{text}\n")
    return write_text_atomic(path, "\n".join(blocks))


