"""Text embedders for the knowledge base (registered through the ``register_embedders`` hook), and
a cache that embeds each distinct text once.

    emb = CachedEmbedder(get_backend("embedder", "all-minilm-l6-v2")())
    emb.embed(["a cat", "a kitten"])     # (2, 384) float32, unit length; cached by content hash
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from animstudio.backend import Backend
from animstudio.hookspecs import hookimpl


class TextEmbedder(Backend):
    """Turns texts into unit-length vectors of a fixed dimension."""

    dimension: ClassVar[int] = 0

    @abstractmethod
    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dimension) float32 rows of unit length."""

    def count_tokens(self, texts: list[str]) -> int:
        """How many tokens ``texts`` hold, for usage reports (default: their words)."""
        return sum(len(t.split()) for t in texts)


class MiniLMEmbedder(TextEmbedder):
    name = "all-minilm-l6-v2"
    description = "sentence-transformers all-MiniLM-L6-v2 from the model catalog (384-d, English)"
    dimension: ClassVar[int] = 384

    class Options(TextEmbedder.Options):
        batch_size: int = 64

    def __init__(self, options: Any = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        from animstudio.llm import Embedder

        self._embedder = Embedder(self.name, batch_size=self.options.batch_size)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._embedder.embed(texts)

    def count_tokens(self, texts: list[str]) -> int:
        return self._embedder.count_tokens(texts)


class CachedEmbedder:
    """An embedder whose vectors are kept in SQLite by the sha256 of the text, so re-indexing an
    unchanged text, or asking the same question again, costs nothing."""

    def __init__(self, embedder: TextEmbedder, path: Path | None = None) -> None:
        from animstudio.config import load_settings

        self.embedder = embedder
        self.name = embedder.name
        self.dimension = embedder.dimension
        self.path = path or load_settings().home / "cache" / "embeddings" / f"{embedder.name}.sqlite"
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        """One connection for this embedder's life (used under its lock)."""
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors (digest TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        return self._db

    def embed(self, texts: list[str]) -> np.ndarray:
        digests = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock, self._connect() as db:
            for start in range(0, len(digests), 500):
                part = digests[start:start + 500]
                rows = db.execute(f"SELECT digest, vector FROM vectors WHERE digest IN ({','.join('?' * len(part))})",
                                  part).fetchall()
                found.update((d, np.frombuffer(v, np.float32)) for d, v in rows)
        missing = list(dict.fromkeys(d for d in digests if d not in found))
        if missing:
            first = {d: t for d, t in zip(digests, texts, strict=True)}
            vectors = self.embedder.embed([first[d] for d in missing])
            with self._lock, self._connect() as db:
                db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                               [(d, v.astype(np.float32).tobytes()) for d, v in zip(missing, vectors, strict=True)])
            found.update(zip(missing, vectors.astype(np.float32), strict=True))
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return np.stack([found[d] for d in digests])


@hookimpl
def register_embedders(register) -> None:  # type: ignore[no-untyped-def]
    register(MiniLMEmbedder)
