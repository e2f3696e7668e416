"""Retrieval: dense (embeddings in Chroma), BM25, and both fused by reciprocal rank fusion, with
metadata filters and optional MMR for variety. Every hit carries its score and its rank in each list.

    hits = hybrid(collection, embedder, "who is afraid of the dark?", k=5, where={"kind": "character"})
    hits[0].id, hits[0].score, hits[0].ranks      # 'character:tom', 0.0325, {'dense': 1, 'bm25': 2}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from animstudio.errors import InvalidInputError
from animstudio.knowledge.lexical import lexical_index

RRF_K = 60            # the usual damping constant of reciprocal rank fusion
POOL = 50             # candidates each list contributes to the fusion, at least
Method = Literal["hybrid", "dense", "bm25"]


@dataclass
class Hit:
    id: str
    score: float
    text: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    collection: str = ""
    ranks: dict[str, int] = field(default_factory=dict)      # 1-based rank in each list that found it
    scores: dict[str, float] = field(default_factory=dict)   # cosine similarity, BM25 score

    def as_dict(self) -> dict[str, Any]:
        meta = {k: v for k, v in self.metadata.items() if k != "record"}
        return {"id": self.id, "score": round(self.score, 6), "collection": self.collection, "text": self.text,
                "metadata": meta, "ranks": self.ranks, "scores": {k: round(v, 6) for k, v in self.scores.items()}}


def dense(collection: Any, query_vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[Hit]:
    n = min(k, collection.cached_count())
    if n == 0:
        return []
    got = collection.records.query(query_embeddings=[query_vector.tolist()], n_results=n, where=where or None,
                                  include=["documents", "metadatas", "distances"])
    return [Hit(i, 1.0 - float(d), doc or "", dict(m or {}), collection.name, {"dense": r},
                {"dense": 1.0 - float(d)})
            for r, (i, doc, m, d) in enumerate(zip(got["ids"][0], got["documents"][0], got["metadatas"][0],
                                                   got["distances"][0], strict=True), 1)]


def lexical(collection: Any, query: str, k: int, where: dict[str, Any] | None = None) -> list[Hit]:
    index = lexical_index(collection)
    found = index.search(query, k, where)
    if not found:
        return []
    got = collection.records.get(ids=[i for i, _ in found], include=["documents", "metadatas"])
    by_id = {i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)}
    return [Hit(i, s, by_id[i][0] or "", dict(by_id[i][1] or {}), collection.name, {"bm25": r}, {"bm25": s})
            for r, (i, s) in enumerate(found, 1) if i in by_id]


def fuse(lists: list[list[Hit]], k: int) -> list[Hit]:
    """Reciprocal rank fusion: each list adds 1 / (60 + rank) to a hit's score."""
    fused: dict[tuple[str, str], Hit] = {}
    for hits in lists:
        for rank, hit in enumerate(hits, 1):
            key = (hit.collection, hit.id)
            if key not in fused:
                fused[key] = Hit(hit.id, 0.0, hit.text, hit.metadata, hit.collection)
            fused[key].score += 1.0 / (RRF_K + rank)
            fused[key].ranks.update(hit.ranks)
            fused[key].scores.update(hit.scores)
    return sorted(fused.values(), key=lambda h: -h.score)[:k]


def mmr(hits: list[Hit], vectors: np.ndarray, query_vector: np.ndarray, k: int, diversity: float) -> list[Hit]:
    """Maximal marginal relevance: each pick trades relevance to the query against likeness to the
    hits already picked (``diversity`` 0: relevance only, 1: variety only)."""
    relevance = vectors @ query_vector
    chosen: list[int] = []
    left = list(range(len(hits)))
    while left and len(chosen) < k:
        if chosen:
            likeness = (vectors[left] @ vectors[chosen].T).max(axis=1)
        else:
            likeness = np.zeros(len(left))
        values = (1 - diversity) * relevance[left] - diversity * likeness
        chosen.append(left.pop(int(np.argmax(values))))
    return [hits[i] for i in chosen]


METHODS = ("hybrid", "dense", "bm25")


def check_method(method: str) -> None:
    """Refuse a retrieval method that does not exist (cheap: callers check it before loading anything)."""
    if method not in METHODS:
        raise InvalidInputError(f"unknown method {method!r}; use {', '.join(METHODS[:-1])} or {METHODS[-1]}")


def parse_where(text: str | None) -> dict[str, Any] | None:
    """A metadata filter from text: JSON in Chroma's language, or KEY=VALUE pairs joined by commas
    (a VALUE that reads as JSON, such as 2 or true, is taken as such)."""
    import json

    if not text or not text.strip():
        return None
    if text.lstrip().startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"the filter is not JSON ({exc.msg}); e.g. '{{\"start_s\": {{\"$gte\": 10}}}}' "
                                    "or kind=shot") from exc
        return value  # type: ignore[no-any-return]
    pairs = []
    for part in text.split(","):
        key, sep, raw = part.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"the filter's {part!r} is not KEY=VALUE; e.g. kind=shot,film=ep1.mp4")
        try:
            parsed: Any = json.loads(raw)
        except json.JSONDecodeError:
            parsed = raw.strip()
        pairs.append({key.strip(): parsed})
    return pairs[0] if len(pairs) == 1 else {"$and": pairs}


def search(collections: list[Any], embedder: Any, query: str, k: int = 10, where: dict[str, Any] | None = None,
           method: Method = "hybrid", diversity: float | None = None) -> list[Hit]:
    """The ``k`` best hits for ``query`` across ``collections``."""
    if not query or not query.strip():
        raise InvalidInputError("the query is empty; ask for something, e.g. kb search \"who is Rick?\"")
    if k < 1:
        raise InvalidInputError(f"k must be at least 1, not {k}")
    check_method(method)
    if diversity is not None and not 0 <= diversity <= 1:
        raise InvalidInputError(f"diversity is 0 to 1, not {diversity}")
    pool = max(POOL, 4 * k) if (method == "hybrid" or diversity) else k
    query_vector = embedder.embed([query])[0] if method != "bm25" or diversity else None
    lists: list[list[Hit]] = []
    for collection in collections:
        if method in ("hybrid", "dense"):
            lists.append(dense(collection, query_vector, pool, where))
        if method in ("hybrid", "bm25"):
            lists.append(lexical(collection, query, pool, where))
    if method == "hybrid" or len(collections) > 1:
        hits = fuse(lists, pool)
    else:
        hits = lists[0] if lists else []
    if diversity:
        vectors = embedder.embed([h.text for h in hits]) if hits else np.zeros((0, 1))
        hits = mmr(hits, vectors, query_vector, k, diversity)
    return hits[:k]
