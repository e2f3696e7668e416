"""Fitting text to the time and the room it has: a spoken line to a shot's length, a caption to the
frame's width, measured with the font and at the size it is drawn with (the renderer draws a text
of ``size`` at ``round(size * frame height)`` pixels).

    fits_time("Here comes the blob.", 1.5)                  # True: about 14 characters a second
    fits_width("A very long caption ...", 1280, 720)        # measured at CAPTION_SIZE in Roboto-Bold
    cut_to("Here it is, the rarest blob of all.", 20)       # 'Here it is'
"""

from __future__ import annotations

import re
from functools import lru_cache

from animstudio.editing.fonts import DEFAULT_FONT
from animstudio.editing.schema import CAPTION_SIZE

CHARS_PER_SECOND = 14.0   # how much text a voice speaks in a second, about
MIN_CHARS = 12            # any shot has room for a couple of words
TITLE_SIZE = 0.12         # a title card's text height
WIDTH_SHARE = 0.9         # a caption may use this share of the frame's width


def fits_time(text: str, seconds: float) -> bool:
    """Whether ``text`` can be spoken in ``seconds`` at a natural pace."""
    return len(text) <= chars_for_time(seconds)


def chars_for_time(seconds: float) -> int:
    return int(max(MIN_CHARS, seconds * CHARS_PER_SECOND))


@lru_cache(maxsize=32)
def _font(font: str, pixels: int):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    from animstudio.editing.fonts import font_path

    return ImageFont.truetype(str(font_path(font)), max(1, pixels))


def text_width(text: str, height: int, size: float = CAPTION_SIZE, font: str = DEFAULT_FONT) -> float:
    """Pixels ``text`` takes on one line when drawn at ``size`` in a frame ``height`` pixels tall."""
    return float(_font(font, round(size * height)).getlength(text))


def fits_width(text: str, width: int, height: int, size: float = CAPTION_SIZE, font: str = DEFAULT_FONT) -> bool:
    """Whether ``text`` fits the frame's width (less a margin) on one line at ``size``."""
    return text_width(text, height, size, font) <= WIDTH_SHARE * width


def chars_for_width(width: int, height: int, size: float = CAPTION_SIZE, font: str = DEFAULT_FONT) -> int:
    """About how many characters of ordinary text fit the frame's width at ``size`` (a budget to ask a
    writer for; :func:`fits_width` is the exact check)."""
    sample = "the quick brown fox jumps over a lazy dog, THEN IT SLEEPS"
    advance = text_width(sample, height, size, font) / len(sample)
    return int(WIDTH_SHARE * width / advance)


def cut_to(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: up to its last sentence or clause end that keeps
    half of the room, else at a word with an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[:limit + 1]
    ends = [m.end() for m in re.finditer(r"[.!?…](?=\s|$)|[,;:](?=\s)", head) if m.end() <= limit]
    if ends and ends[-1] >= limit // 2:
        return head[:ends[-1]].rstrip(",;: ")
    return text[:max(1, limit - 3)].rsplit(" ", 1)[0].rstrip(",;: ") + "..."
