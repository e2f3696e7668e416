"""A chunk of a document: its text, its position in the source and flat metadata.

    >>> c = Chunk("Rick is a scientist.", 0, {"source": "/notes/rick.md", "heading": "Characters > Rick"})
    >>> c.digest   # sha256 of the text and the sorted metadata: changes when either changes
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Chunk:
    """``meta`` is flat with scalar values only (what vector stores such as Chroma accept)."""

    text: str
    ordinal: int
    meta: dict[str, Scalar] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, value in self.meta.items():
            if not isinstance(key, str) or not isinstance(value, Scalar):
                raise TypeError(f"chunk metadata must map names to str, int, float or bool, not {key!r}: {value!r}")

    @property
    def digest(self) -> str:
        """Hex sha256 of the text and the metadata (keys sorted); the ordinal is not part of it."""
        meta = json.dumps(self.meta, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(f"{self.text}\0{meta}".encode()).hexdigest()
