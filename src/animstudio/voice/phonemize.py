"""Text to IPA phonemes with espeak-ng, in any language it knows (Debian package ``espeak-ng``).

Kokoro speaks from these phonemes, lip sync turns them into mouth shapes, and the ``espeak``
engine speaks them itself. Punctuation is kept between clauses, where it shapes intonation.

    ipa("Look at that!", "en")            # 'lˈʊk æt ðˈæt!'
    phonemes("Ciao!", "it")               # [['tʃ', 'ˈa', 'o']]  one list per word
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess

from animstudio.errors import InvalidInputError, MissingDependencyError

ESPEAK_VOICE = {"en": "en-us"}   # a bare language code -> the espeak-ng voice that speaks it
CLAUSE = re.compile(r"([^,.!?;:…—]+)([,.!?;:…—]*)")


def espeak_binary() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        raise MissingDependencyError("espeak-ng is not installed; install it with `apt install espeak-ng` "
                                     "(Debian/Ubuntu) or `brew install espeak-ng` (macOS)")
    return path


@functools.cache
def espeak_languages() -> tuple[str, ...]:
    """The language codes espeak-ng has voices for (``en``, ``en-us``, ``it``...)."""
    out = subprocess.run([espeak_binary(), "--voices"], capture_output=True, text=True, check=True).stdout
    return tuple(sorted({line.split()[1] for line in out.splitlines()[1:] if len(line.split()) > 1}))


def espeak_voice(language: str) -> str:
    code = language.lower()
    voice = ESPEAK_VOICE.get(code, code)
    known = espeak_languages()
    if voice not in known:
        raise InvalidInputError(f"espeak-ng knows no language {language!r}; use a code from `espeak-ng --voices`, "
                                f"e.g. {', '.join(c for c in ('en', 'it', 'es', 'fr', 'de') if c in known)}")
    return voice


def _run(pieces: list[str], voice: str, separator: str) -> list[str]:
    """IPA of each piece, in one espeak-ng call (pieces are paragraphs, answered one per paragraph)."""
    args = [espeak_binary(), "-q", "--ipa", "-v", voice] + ([f"--sep={separator}"] if separator else [])
    out = subprocess.run(args, input="\n\n".join(pieces) + "\n", capture_output=True, text=True, check=True).stdout
    answers = [" ".join(p.split()) for p in re.split(r"\n\s*\n", out.strip())]
    if len(answers) != len(pieces):   # espeak split or joined a paragraph: ask piece by piece
        answers = [" ".join(subprocess.run(args, input=p + "\n", capture_output=True, text=True,
                                           check=True).stdout.split()) for p in pieces]
    return answers


def ipa(text: str, language: str = "en") -> str:
    """The IPA of ``text`` with its clause punctuation kept (``,`` ``.`` ``!`` ``?`` ...)."""
    clauses = [(words.strip(), punct) for words, punct in CLAUSE.findall(text) if words.strip()]
    if not clauses:
        return ""
    spoken = _run([w for w, _ in clauses], espeak_voice(language), "")
    return " ".join(f"{s}{p[:1]}" for s, (_, p) in zip(spoken, clauses, strict=True) if s or p).strip()


def phonemes(text: str, language: str = "en") -> list[list[str]]:
    """The phonemes of every spoken word (stress marks stay on the vowel they precede)."""
    clauses = [w.strip() for w, _ in CLAUSE.findall(text) if w.strip()]
    if not clauses:
        return []
    out = _run(clauses, espeak_voice(language), "_")
    return [[p for p in word.split("_") if p] for line in out for word in line.split()]
