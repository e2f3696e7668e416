"""Writing ffmpeg filter graphs: quoting values and small numeric helpers.

A value inside a filter graph is read twice, first by the graph parser and then by the filter's
option parser; ``value`` escapes it for both, so paths with colons, spaces, commas or quotes work.

    >>> f"drawtext=fontfile={value('/fonts/a b:c.ttf')}"
"""

from __future__ import annotations

import os
from fractions import Fraction


def _escape(text: str, special: str) -> str:
    return "".join("\\" + ch if ch in special or ch.isspace() else ch for ch in text)


def value(text: str | os.PathLike[str]) -> str:
    """``text`` as one filter option value inside a filter graph: escaped for the option parser
    (``\\ ' :``), then for the graph parser (``\\ ' [ ] , ;``); whitespace at both levels, so
    leading or trailing spaces survive."""
    return _escape(_escape(str(text), "\\':"), "\\'[],;")


def expr(text: str) -> str:
    """An expression (commas, no colons or quotes) protected from the graph parser."""
    return f"'{text}'"


def num(x: float) -> str:
    """A number as ffmpeg reads it, without float noise."""
    return f"{x:.6f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


def rate(fps: float) -> str:
    """A frame rate as an exact fraction where it is a common one (23.976 -> 24000/1001)."""
    for den in (1, 1001):
        num_ = round(fps * den)
        if abs(num_ / den - fps) < 1e-3:
            return f"{num_}/{den}" if den != 1 else str(num_)
    frac = Fraction(fps).limit_denominator(100000)
    return f"{frac.numerator}/{frac.denominator}"
