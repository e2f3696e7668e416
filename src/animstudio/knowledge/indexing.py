"""Incremental indexing: every source (a file, or a batch of records) is hashed; re-adding an
unchanged source does nothing, a changed one re-embeds only its changed chunks and drops the ones
it no longer has, and a sync removes the sources whose files are gone.

    report = index_source(collection, embedder, "/notes/rick.md", digest, items)
    report.chunks_written, report.sources_unchanged
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from animstudio.progress import Progress, ProgressCallback, ignore

BATCH = 256
INDEX_VERSION = 1    # part of every source's hash: a change in how sources are chunked re-indexes them


class IndexReport(BaseModel):
    """What indexing did: sources added, changed, unchanged or removed; chunks written, kept or deleted."""

    sources_added: int = 0
    sources_updated: int = 0
    sources_unchanged: int = 0
    sources_removed: int = 0
    chunks_written: int = 0
    chunks_kept: int = 0
    chunks_deleted: int = 0

    def __iadd__(self, other: IndexReport) -> IndexReport:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        return self

    def as_dict(self) -> dict[str, int]:
        return self.model_dump()


Item = tuple[str, str, dict[str, Any]]   # id, text, metadata


def item_digest(text: str, meta: dict[str, Any]) -> str:
    return hashlib.sha256((text + "\0" + json.dumps(meta, sort_keys=True, default=str)).encode()).hexdigest()


def _batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    batch: list[Item] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def index_source(collection: Any, embedder: Any, source_id: str, source_hash: str, items: Iterable[Item],
                 kind: str, on_progress: ProgressCallback = ignore) -> IndexReport:
    """Bring ``collection`` in step with one source (``items`` is consumed lazily, batch by batch)."""
    report = IndexReport()
    known = collection.source(source_id)
    if known and known.get("hash") == source_hash:
        report.sources_unchanged = 1
        return report
    old_ids = set(collection.records.get(where={"source": source_id}, include=[])["ids"])
    seen: set[str] = set()
    for batch in _batches(items, BATCH):
        batch = [(i, t, m) for i, t, m in batch if i not in seen]   # a record given twice: the first wins
        ids = [i for i, _, _ in batch]
        seen.update(ids)
        current = collection.records.get(ids=ids, include=["metadatas"])
        held = {i: (m or {}).get("digest") for i, m in zip(current["ids"], current["metadatas"], strict=True)}
        changed = []
        for i, text, meta in batch:
            digest = item_digest(text, meta)
            if held.get(i) == digest:
                report.chunks_kept += 1
            else:
                changed.append((i, text, {**meta, "source": source_id, "digest": digest}))
        if changed:
            vectors = embedder.embed([t for _, t, _ in changed])
            collection.records.upsert(ids=[i for i, _, _ in changed], embeddings=vectors.tolist(),
                                     documents=[t for _, t, _ in changed], metadatas=[m for _, _, m in changed])
            report.chunks_written += len(changed)
        on_progress(Progress(f"index {kind}", len(seen), None, "chunks"))
    stale = sorted(old_ids - seen)
    for start in range(0, len(stale), 5000):
        collection.records.delete(ids=stale[start:start + 5000])
    report.chunks_deleted = len(stale)
    collection.set_source(source_id, {"hash": source_hash, "kind": kind, "chunks": len(seen),
                                      "indexed_at": datetime.now(UTC).isoformat(timespec="seconds")})
    if known:
        report.sources_updated = 1
    else:
        report.sources_added = 1
    if report.chunks_written or report.chunks_deleted:
        collection.bump()
    return report


def remove_source(collection: Any, source_id: str) -> IndexReport:
    ids = collection.records.get(where={"source": source_id}, include=[])["ids"]
    for start in range(0, len(ids), 5000):
        collection.records.delete(ids=ids[start:start + 5000])
    collection.drop_source(source_id)
    if ids:
        collection.bump()
    return IndexReport(sources_removed=1, chunks_deleted=len(ids))
