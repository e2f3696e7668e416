"""The model catalog: named weights, the package files they assemble from, and their hashes.

Entries live in ``catalog.toml`` beside this module (data, not code).

    >>> get_entry("whisper-base").files[0].name      # "model.bin"
    >>> [e.name for e in catalog() if e.kind == "llm"]
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict

from animstudio.errors import UnknownModelError

ModelKind = Literal["llm", "tts", "asr", "embedding", "image", "vad", "speaker", "tokenizer"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Part(_Strict):
    """A file inside an installed distribution (``path`` as listed in its RECORD)."""

    package: str
    version: str
    path: str
    size: int


class ModelFile(_Strict):
    name: str  # relative to the entry's folder in the warehouse
    sha256: str
    size: int
    parts: tuple[Part, ...]


class CatalogEntry(_Strict):
    name: str
    kind: ModelKind
    description: str
    licence: str
    main: str = ""  # the file that `models path` points at; empty: the folder
    files: tuple[ModelFile, ...]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def packages(self) -> list[tuple[str, str]]:
        """Source packages and versions, in order, once each."""
        return packages_of(self.files)


def packages_of(files: Iterable[ModelFile]) -> list[tuple[str, str]]:
    """The packages that ``files``' parts come from, with versions, in order, once each."""
    seen: dict[str, str] = {}
    for f in files:
        for p in f.parts:
            seen.setdefault(p.package, p.version)
    return list(seen.items())


@functools.cache
def catalog() -> tuple[CatalogEntry, ...]:
    text = resources.files("animstudio.models").joinpath("catalog.toml").read_text(encoding="utf-8")
    return tuple(CatalogEntry.model_validate(e) for e in tomllib.loads(text)["model"])


def get_entry(name: str) -> CatalogEntry:
    for entry in catalog():
        if entry.name == name:
            return entry
    known = ", ".join(e.name for e in catalog())
    raise UnknownModelError(f"no model called {name!r} in the catalog; known: {known}")


def by_hash() -> dict[str, tuple[CatalogEntry, ModelFile]]:
    """sha256 -> (entry, file), to recognise files users bring themselves."""
    return {f.sha256: (e, f) for e in catalog() for f in e.files}
