"""PDF: the text layer of each page (pypdf), split per page, the page number in meta.

    >>> next(load_pdf(Path("bible.pdf"), 1000, 150))
    ("Rick Sanchez is a scientist ...", {"page": 1, "pages": 12})

Only text a PDF holds as text is read: a scan (pages that are images) has none, and OCR is not
supported, so such a file is refused with that said.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from animstudio.errors import InvalidInputError, MissingDependencyError
from animstudio.knowledge.loaders.chunk import Scalar
from animstudio.knowledge.loaders.text import split_text


def load_pdf(p: Path, chunk_chars: int, overlap_chars: int) -> Iterator[tuple[str, dict[str, Scalar]]]:
    try:
        import pypdf
    except ImportError:
        raise MissingDependencyError.for_extra("pypdf", "knowledge", "Reading PDF documents") from None
    try:
        reader = pypdf.PdfReader(p)
        if reader.is_encrypted and not reader.decrypt(""):
            raise InvalidInputError(f"{p} is protected by a password; pass a copy saved without one")
        pages = reader.pages
        count = len(pages)
    except InvalidInputError:
        raise
    except Exception as exc:  # pypdf raises many kinds of error on damaged files
        raise InvalidInputError(f"{p} is not a readable PDF ({_reason(exc)}); re-export it from the program "
                                f"that made it") from None
    found = False
    for number in range(1, count + 1):
        try:
            text = pages[number - 1].extract_text() or ""
        except Exception as exc:
            raise InvalidInputError(f"{p}: page {number} cannot be read ({_reason(exc)}); re-export the PDF "
                                    f"from the program that made it") from None
        for piece in split_text(text, chunk_chars, overlap_chars):
            found = True
            yield piece.text, {"page": number, "pages": count}
    if not found:
        raise InvalidInputError(f"{p} has no extractable text in its {count} page(s) (a scan or images only?); "
                                f"OCR is not supported: pass a PDF with a text layer, or the text itself")


def _reason(exc: Exception) -> str:
    return str(exc).strip() or type(exc).__name__
