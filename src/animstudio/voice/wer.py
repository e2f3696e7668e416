"""Word error rate: how far a transcript is from the reference text, in words.

Both texts are normalised first (lower case, punctuation and symbols dropped, whitespace
collapsed; accented letters kept; in English, numbers written in digits are spelled out the way
they are read: "15th" -> "fifteenth", "1455" -> "fourteen fifty five"), so only the words count.

    >>> wer("Ask not what your country can do.", "ask not what you're country can do")
    0.142857...
    >>> d = wer_detail("a b c d", "a x c")     # d.substitutions == 1, d.deletions == 1, d.wer == 0.5
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_APOSTROPHES = "'\u2018\u2019\u02bc\u0060\u00b4"
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DECIMAL = re.compile(r"(?<=\d)[.,](?=\d)")
# private-use stand-ins that keep a separator between digits while punctuation goes
_MARKS = {".": "\ue000", ",": "\ue001"}
_UNMARK = str.maketrans({v: k for k, v in _MARKS.items()})
_UNMARK_KEYS = frozenset(_MARKS.values())
_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
         "seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth", "nine": "ninth",
            "twelve": "twelfth"}
_UNITA = ("zero uno due tre quattro cinque sei sette otto nove dieci undici dodici tredici quattordici quindici "
          "sedici diciassette diciotto diciannove").split()
_DECINE = "_ _ venti trenta quaranta cinquanta sessanta settanta ottanta novanta".split()
_NUMERO = re.compile(r"(?<![\d\ue000\ue001])\d{1,6}(?![\d\ue000\ue001])")   # not part of 3,5 or 3.5
_NUMBER = re.compile(r"\b(\d+)(st|nd|rd|th|s)?\b")
_POINT = re.compile(r"\b(\d+)\.(\d+)\b")


def _cardinal(n: int) -> str:
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    for size, word in ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred")):
        if n >= size:
            rest = n % size
            return f"{_cardinal(n // size)} {word}" + (f" {_cardinal(rest)}" if rest else "")
    return str(n)


def _italian(n: int) -> str:
    """An Italian cardinal as one word, the way it is written out (ventitré, duemilaventiquattro)."""
    if n < 20:
        return _UNITA[n]
    if n < 100:
        tens, unit = _DECINE[n // 10], n % 10
        if unit in (1, 8):
            tens = tens[:-1]   # ventuno, trentotto
        return tens + ("" if unit == 0 else "tré" if unit == 3 else _UNITA[unit])
    if n < 1000:
        rest = n % 100
        return ("cento" if n < 200 else _UNITA[n // 100] + "cento") + (_italian(rest) if rest else "")
    rest = n % 1000
    head = "mille" if n < 2000 else _italian(n // 1000) + "mila"
    return head + (_italian(rest) if rest else "")


def _spoken_number(digits: str, suffix: str) -> str:
    """A number in digits as English words: years the way they are read, ordinals and plurals."""
    n = int(digits)
    if len(digits) > 1 and digits.startswith("0") or n >= 10**12:
        return " ".join(_ONES[int(d)] for d in digits)
    if 1100 <= n <= 1999 and n % 100 and not suffix.startswith(("st", "nd", "rd")) or 2010 <= n <= 2099:
        words = f"{_cardinal(n // 100)} {_cardinal(n % 100) if n % 100 >= 10 else 'oh ' + _cardinal(n % 100)}"
    else:
        words = _cardinal(n)
    if suffix in ("st", "nd", "rd", "th"):
        head, _, last = words.rpartition(" ")
        last = _ORDINAL.get(last, last[:-1] + "ieth" if last.endswith("y") else last + "th")
        words = f"{head} {last}".strip()
    elif suffix == "s":
        words = words[:-1] + "ies" if words.endswith("y") else words + "s"
    return words


def normalise(text: str, language: str = "en") -> list[str]:
    """The words of ``text`` for scoring: lower case, no punctuation or symbols, accents kept.

    Apostrophes join the word in English ("don't" -> "dont") and split it in Italian and other
    languages, where they mark an elided article ("l'amico" -> "l", "amico"). English numbers in
    digits are spelled out ("1,000" -> "one thousand", "42-line" -> "forty two line", "1455" ->
    "fourteen fifty five"); Italian whole numbers too ("23" -> "ventitré"); a separator between
    digits ("3,5") stays.
    """
    text = unicodedata.normalize("NFC", str(text)).lower()
    lang = (language or "en").lower().replace("_", "-").split("-")[0]
    if lang == "en":
        text = _POINT.sub(lambda m: f"{m.group(1)} point {' '.join(m.group(2))}", _THOUSANDS.sub("", text))
        text = _NUMBER.sub(lambda m: _spoken_number(m.group(1), m.group(2) or ""), text)
    text = _DECIMAL.sub(lambda m: _MARKS[m.group(0)], text)
    if lang == "it":
        text = _NUMERO.sub(lambda m: _italian(int(m.group(0))) if not m.group(0).startswith("0") or m.group(0) == "0"
                           else m.group(0), text)
    joiner = "" if lang == "en" else " "
    out = []
    for ch in text:
        if ch in _APOSTROPHES:
            out.append(joiner)
        elif ch not in _UNMARK_KEYS and unicodedata.category(ch)[0] in "PSZC":
            out.append(" ")  # punctuation (unicode quotes and dashes too), symbols, separators, controls
        else:
            out.append(ch)
    return "".join(out).translate(_UNMARK).split()


@dataclass(frozen=True)
class WerDetail:
    """Edit counts of the cheapest word alignment; ``wer`` = errors / reference words."""

    substitutions: int
    deletions: int
    insertions: int
    reference_words: int
    hypothesis_words: int

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def hits(self) -> int:
        return self.reference_words - self.substitutions - self.deletions

    @property
    def wer(self) -> float:
        """0 for two empty texts; with an empty reference, each inserted word counts 1."""
        if self.reference_words == 0:
            return float(self.insertions)
        return self.errors / self.reference_words


def _align(ref: list[str], hyp: list[str]) -> tuple[int, int, int]:
    """(substitutions, deletions, insertions) of a minimum-cost word alignment (Levenshtein)."""
    # each cell: (cost, substitutions, deletions, insertions); ties prefer fewer substitutions
    prev = [(j, 0, 0, j) for j in range(len(hyp) + 1)]
    for i, r in enumerate(ref, 1):
        row = [(i, 0, i, 0)]
        for j, h in enumerate(hyp, 1):
            c, s, d, n = prev[j - 1]
            diag = (c, s, d, n) if r == h else (c + 1, s + 1, d, n)
            c, s, d, n = prev[j]
            up = (c + 1, s, d + 1, n)
            c, s, d, n = row[j - 1]
            left = (c + 1, s, d, n + 1)
            row.append(min(diag, up, left, key=lambda t: (t[0], t[1])))
        prev = row
    _, s, d, n = prev[-1]
    return s, d, n


def wer_detail(reference: str, hypothesis: str, language: str = "en") -> WerDetail:
    ref, hyp = normalise(reference, language), normalise(hypothesis, language)
    s, d, n = _align(ref, hyp)
    return WerDetail(substitutions=s, deletions=d, insertions=n, reference_words=len(ref),
                     hypothesis_words=len(hyp))


def wer(reference: str, hypothesis: str, language: str = "en") -> float:
    """Word-level edit distance / number of reference words, after :func:`normalise` (0 if both empty)."""
    return wer_detail(reference, hypothesis, language).wer
