"""Text before it is spoken: cleaning, and splitting long text into sentence-sized chunks.

    check_text("Look 😀 at  that!")              # 'Look at that!'
    chunks("One. Two! " * 500, max_chars=400)   # sentences packed into chunks of at most 400 characters
"""

from __future__ import annotations

import re
import unicodedata

from animstudio.errors import InvalidInputError

UNSPOKEN = {"So", "Sk", "Cn", "Co", "Cs", "Cf", "Cc"}   # emoji, pictographs, private use, controls
MAX_LINE_CHARS = 20_000   # one line spoken at once: about a quarter of an hour of speech


def check_length(text: str) -> str:
    """``text`` if it is short enough to speak as one line; a longer one is a one-line error."""
    if len(text) > MAX_LINE_CHARS:
        raise InvalidInputError(f"the line is {len(text):,} characters long; one line may have at most "
                                f"{MAX_LINE_CHARS:,} (about a quarter of an hour of speech): split the text into "
                                "lines of a script and speak it with `animstudio voice batch SCRIPT -o FOLDER`")
    return text


def check_text(text: str) -> str:
    """The line with whitespace collapsed and emoji and other symbols nobody reads aloud removed."""
    kept = "".join(" " if unicodedata.category(c) in UNSPOKEN and not c.isspace() else c
                   for c in unicodedata.normalize("NFC", str(text)))
    cleaned = " ".join(kept.split())
    if not any(c.isalnum() for c in cleaned):
        raise InvalidInputError("there is no text to speak; pass a line with words in it")
    return cleaned


SENTENCE_END = re.compile(r"(?<=[.!?;:…])\s+|(?<=[。！？])")


def chunks(text: str, max_chars: int = 400) -> list[str]:
    """Sentences packed in order into chunks of at most ``max_chars`` (a longer sentence is split at commas,
    then at spaces), so an engine with a length limit speaks any text as one continuous result."""
    out: list[str] = []
    current = ""
    for sentence in SENTENCE_END.split(text):
        for piece in _fit(sentence.strip(), max_chars):
            if current and len(current) + 1 + len(piece) > max_chars:
                out.append(current)
                current = piece
            else:
                current = f"{current} {piece}".strip()
    if current:
        out.append(current)
    return out


def _fit(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence] if sentence else []
    for boundary in (r"(?<=,)\s+", r"\s+"):   # after commas, else between words
        parts = re.split(boundary, sentence)
        if len(parts) > 1:
            pieces: list[str] = []
            for part in parts:
                if pieces and len(pieces[-1]) + 1 + len(part) <= max_chars:
                    pieces[-1] += " " + part
                else:
                    pieces.append(part)
            return [q for p in pieces for q in _fit(p.strip(), max_chars)]
    return [sentence[i:i + max_chars] for i in range(0, len(sentence), max_chars)]
