"""The kind of a document whose suffix says nothing, guessed from its first bytes.

    >>> sniff(b"1\\n00:00:01,000 --> 00:00:02,000\\nHi\\n")
    'subtitles'

PDF by its ``%PDF-`` header; subtitles by a WEBVTT line, an ASS ``[Script Info]`` or an SRT cue;
YAML only by a ``%YAML`` directive; JSON by an opening ``{"`` or ``[`` and a value, JSON Lines when
the first line is a whole JSON value and another line follows; Markdown by a heading or a code
fence. Everything else is plain text.
"""

from __future__ import annotations

import json
import re

from animstudio.knowledge.loaders.decoding import bom_encoding

_SRT = re.compile(r"\d+[ \t]*\r?\n[ \t]*\d+:\d{1,2}:\d{1,2}[,.]\d{1,3}[ \t]*-->")
_JSON = re.compile(r"""(?:\{\s*["}]|\[\s*(?:[\[{"\]\-0-9]|true|false|null))""")
_MARKDOWN = re.compile(r"^ {0,3}(?:#{1,6}[ \t]+\S|```|~~~)", re.M)


def sniff(head: bytes) -> str:
    if b"%PDF-" in head[:1024]:
        return "pdf"
    text = head.decode(bom_encoding(head) or "utf-8", errors="replace").lstrip("\ufeff")
    start = text.lstrip()
    if start.startswith(("WEBVTT", "[Script Info]")) or _SRT.match(start):
        return "subtitles"
    if start.startswith("%YAML"):
        return "yaml"
    if _JSON.match(start):
        first, _, rest = start.partition("\n")
        return "jsonl" if rest.strip() and _is_json(first) and _JSON.match(rest.lstrip()) else "json"
    if _MARKDOWN.search(text):
        return "markdown"
    return "text"


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True
