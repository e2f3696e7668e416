"""BM25 over a collection's texts (bm25s), rebuilt only when the collection changed, and the metadata
filters (Chroma's ``where`` language) applied to it the same way Chroma applies them.

    index = lexical_index(collection)           # cached per collection revision
    index.search("rocket launch", k=10, where={"kind": "shot"})   # [(id, score), ...]
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from animstudio.errors import InvalidInputError

_CACHE: dict[tuple[str, str, str, int], LexicalIndex] = {}
_LOCK = threading.Lock()
COMPARE = {"$eq": lambda a, b: a == b, "$ne": lambda a, b: a != b, "$gt": lambda a, b: a > b,
           "$gte": lambda a, b: a >= b, "$lt": lambda a, b: a < b, "$lte": lambda a, b: a <= b,
           "$in": lambda a, b: a in b, "$nin": lambda a, b: a not in b}


def matches(meta: dict[str, Any], where: dict[str, Any] | None) -> bool:
    """Whether a record's metadata passes a filter such as ``{"film": "a.mp4", "start_s": {"$gte": 10}}``."""
    if not where:
        return True
    for key, cond in where.items():
        if key in ("$and", "$or"):
            results = [matches(meta, c) for c in cond]
            if not (all(results) if key == "$and" else any(results)):
                return False
            continue
        value = meta.get(key)
        ops = cond if isinstance(cond, dict) else {"$eq": cond}
        for op, target in ops.items():
            if op not in COMPARE:
                raise InvalidInputError(f"filter operator {op!r} is not known; use {', '.join(COMPARE)}, $and, $or")
            try:
                if value is None or not COMPARE[op](value, target):
                    return False
            except TypeError:
                return False
    return True


@dataclass
class LexicalIndex:
    ids: list[str]
    metadatas: list[dict[str, Any]]
    retriever: Any

    def search(self, query: str, k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        import bm25s

        if not self.ids:
            return []
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.vocab:
            return []
        mask = None
        if where:
            mask = np.array([matches(m, where) for m in self.metadatas], dtype=np.float32)
            if not mask.any():
                return []
        n = min(k, len(self.ids) if mask is None else int(mask.sum()))
        docs, scores = self.retriever.retrieve(tokens, k=n, weight_mask=mask, show_progress=False, n_threads=1)
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


def build(ids: list[str], texts: list[str], metadatas: list[dict[str, Any]]) -> LexicalIndex:
    import bm25s

    retriever = bm25s.BM25()
    if ids:
        retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    return LexicalIndex(ids, metadatas, retriever)


def lexical_index(collection: Any) -> LexicalIndex:
    """The collection's BM25 index, built from its records on first use and after every change."""
    key = (collection.store.name, collection.store.where, collection.name, collection.revision)
    with _LOCK:
        if key not in _CACHE:
            for old in [k for k in _CACHE if k[:3] == key[:3]]:
                del _CACHE[old]
            records = collection.all()
            _CACHE[key] = build(records["ids"], records["documents"], records["metadatas"])
        return _CACHE[key]
