"""The knowledge base as one object: add files and records, keep folders in sync, search, remove.

    kb = KnowledgeBase()                                    # the configured store (Chroma in the studio home)
    kb.add(["bible.md", "characters.yaml", "ep1.analysis.json"])
    kb.add_records("generations", [GenerationRecord(artifact="image", prompt="Rick, sketch", seed=7)])
    kb.search("who is afraid of the dark?", k=5)            # hybrid hits from every collection
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from animstudio.errors import InvalidInputError, invalid_input
from animstudio.files import check_input_file
from animstudio.knowledge.indexing import INDEX_VERSION, IndexReport, Item, index_source, remove_source
from animstudio.knowledge.records import COLLECTIONS, Record
from animstudio.knowledge.search import Hit, Method, search
from animstudio.progress import Progress, ProgressCallback, ignore

RECORD_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl")


def file_hash(path: Path, *extra: str) -> str:
    digest = hashlib.sha256("|".join((str(INDEX_VERSION), *extra)).encode())
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_structured(path: Path) -> Any:
    import yaml

    text = path.read_text(encoding="utf-8-sig")
    try:
        if path.suffix.lower() == ".jsonl":
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidInputError(f"{path}: not valid {path.suffix.lstrip('.').upper()} "
                                f"({str(exc).splitlines()[0]})") from exc


def records_of(path: Path, collection: str) -> list[Record]:
    """The records of a YAML/JSON file: a list, a mapping of name -> fields, or either under a
    top-level key named after the collection (``characters:``)."""
    from pydantic import ValidationError

    model = COLLECTIONS[collection]
    data = _read_structured(path)
    if isinstance(data, dict) and collection in data:
        data = data[collection]
    if isinstance(data, dict):
        data = [{"name": name, **(fields or {})} if "name" in model.model_fields else fields
                for name, fields in data.items()]
    if not isinstance(data, list) or not data:
        raise InvalidInputError(f"{path}: expected a list of {collection} (or `{collection}:` with one), "
                                "each a mapping of fields")
    records = []
    for n, entry in enumerate(data, 1):
        try:
            records.append(model.model_validate(entry))
        except ValidationError as exc:
            raise invalid_input(exc, f"{path}: {collection} entry {n}", [f for f in model.model_fields if f != "id"],
                                "fields") from exc
    return records


def guess_collection(path: Path) -> str:
    """Where a file goes when no collection is named: analyses to films, `characters:`/`styles:` files
    to those, everything else to documents."""
    if path.suffix.lower() in (".json", ".yaml", ".yml") and path.stat().st_size < 50 << 20:
        from animstudio.knowledge.films import is_analysis

        try:
            data = _read_structured(path)
        except (InvalidInputError, UnicodeDecodeError):
            return "documents"
        if is_analysis(data):
            return "films"
        if isinstance(data, dict) and len(data) == 1 and next(iter(data)) in ("characters", "styles", "generations"):
            return next(iter(data))
    return "documents"


def _deferred(make: Callable[[], list[Item]]) -> Iterator[Item]:
    """Items made only when read: an unchanged source is never parsed (index_source stops first)."""
    yield from make()


def record_items(records: list[Record]) -> list[Item]:
    return [(r.record_id(), r.text(), r.metadata()) for r in records]


class KnowledgeBase:
    """The collections of one vector store (default: the setting ``knowledge.vector_store``), embedded
    by one embedder (default: ``knowledge.embedder``); ``url`` and ``path`` are the store's options."""

    def __init__(self, url: str | None = None, path: str | os.PathLike[str] | None = None,
                 embedder: str | None = None, chunk_chars: int = 1000, overlap_chars: int = 150,
                 store: str | None = None) -> None:
        from animstudio.config import load_settings
        from animstudio.knowledge.embedders import CachedEmbedder
        from animstudio.plugins import get_backend

        settings = load_settings().knowledge
        self.store = get_backend("vector_store", store or settings.vector_store)(
            url=url, path=None if path is None else str(path))
        self.embedder = CachedEmbedder(get_backend("embedder", embedder or settings.embedder)())
        self.chunk_chars, self.overlap_chars = chunk_chars, overlap_chars

    def collection(self, name: str, create: bool = False) -> Any:
        return self.store.collection(name, create=create, embedder=self.embedder)

    # ---------------------------------------------------------------- adding

    def _files(self, paths: list[str | os.PathLike[str]]) -> Iterator[Path]:
        from animstudio.knowledge.loaders import SUPPORTED

        for p in paths:
            path = Path(p)
            if path.is_dir():
                yield from sorted(f for f in path.rglob("*") if f.is_file() and not f.name.startswith(".")
                                  and f.suffix.lower() in SUPPORTED)
            else:
                yield check_input_file(path, "file to add")

    def add(self, paths: list[str | os.PathLike[str]], collection: str | None = None,
            transcript: str | os.PathLike[str] | None = None, on_progress: ProgressCallback = ignore) -> IndexReport:
        """Index files (folders: every supported file in them); unchanged ones are skipped."""
        report = IndexReport()
        files = list(self._files(paths))
        if not files:
            raise InvalidInputError("nothing to add: no supported files in " + ", ".join(map(str, paths)))
        for n, path in enumerate(files):
            on_progress(Progress("add files", n, len(files), "files", path.name))
            report += self.add_file(path, collection, transcript, on_progress)
        on_progress(Progress("add files", len(files), len(files), "files"))
        return report

    def add_file(self, path: Path, collection: str | None = None, transcript: str | os.PathLike[str] | None = None,
                 on_progress: ProgressCallback = ignore) -> IndexReport:
        path = path.resolve()
        name = collection or guess_collection(path)
        new = name not in self.store.names()
        target = self.collection(name, create=True)
        try:
            return self._index_file(target, name, path, transcript, on_progress)
        except BaseException:
            if new and target.count() == 0:   # a file that could not be read leaves no empty collection behind
                self.store.drop(name)
            raise

    def _index_file(self, target: Any, name: str, path: Path, transcript: str | os.PathLike[str] | None,
                    on_progress: ProgressCallback) -> IndexReport:
        kind = COLLECTIONS.get(name, COLLECTIONS["documents"]).kind
        if name == "films":
            from animstudio.knowledge.films import shot_records

            extra = file_hash(check_input_file(transcript, "transcript")) if transcript else ""
            digest = file_hash(path, name, extra)
            items: Any = _deferred(lambda: record_items(shot_records(path, transcript)))
        elif name in COLLECTIONS and name != "documents":
            digest = file_hash(path, name)
            items = _deferred(lambda: record_items(records_of(path, name)))
        else:
            from animstudio.knowledge.loaders import load_chunks

            digest = file_hash(path, name, str(self.chunk_chars), str(self.overlap_chars))
            key = hashlib.sha256(str(path).encode()).hexdigest()[:16]
            items = ((f"{key}:{c.ordinal}", c.text, {**c.meta, "format": c.meta["kind"], "kind": kind,
                                                    "ordinal": c.ordinal})
                     for c in load_chunks(path, chunk_chars=self.chunk_chars, overlap_chars=self.overlap_chars))
        return index_source(target, self.embedder, str(path), digest, items, kind, on_progress)

    def add_records(self, collection: str, records: list[Record], source: str | None = None) -> IndexReport:
        """Index records made by code (a job's generations); ``source`` groups them (default: each its own)."""
        if collection not in COLLECTIONS or collection == "documents":
            raise InvalidInputError(f"records go to {', '.join(c for c in COLLECTIONS if c != 'documents')}, "
                                    f"not {collection!r}")
        model = COLLECTIONS[collection]
        wrong = [type(r).__name__ for r in records if not isinstance(r, model)]
        if wrong:
            raise InvalidInputError(f"{collection} holds {model.__name__} records, not {', '.join(set(wrong))}")
        target = self.collection(collection, create=True)
        report = IndexReport()
        groups = {source: records} if source else {f"record:{r.record_id()}": [r] for r in records}
        for source_id, group in groups.items():
            items = record_items(group)
            digest = hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()
            report += index_source(target, self.embedder, source_id, digest, items, model.kind)
        return report

    def records(self, collection: str) -> list[Record]:
        """The typed records of a records collection (characters, styles, ...); none while it is empty."""
        if collection not in COLLECTIONS or collection == "documents":
            raise InvalidInputError(f"records are kept in {', '.join(c for c in COLLECTIONS if c != 'documents')}, "
                                    f"not {collection!r}")
        if collection not in self.store.names():
            return []
        model = COLLECTIONS[collection]
        found = self.collection(collection).all(include=("metadatas",))
        return [model.model_validate_json(m["record"]) for m in found["metadatas"] if m and "record" in m]

    def sync(self, folder: str | os.PathLike[str], collection: str = "documents",
             on_progress: ProgressCallback = ignore) -> IndexReport:
        """Make ``collection`` hold exactly the supported files under ``folder``: new and changed ones
        indexed, chunks of deleted files removed."""
        root = Path(folder).resolve()
        if not root.is_dir():
            raise InvalidInputError(f"{folder} is not a folder; kb sync keeps a collection in step with a folder")
        files = list(self._files([root]))
        report = self.add(files, collection, on_progress=on_progress) if files else IndexReport()
        target = self.collection(collection, create=True)
        present = {str(f.resolve()) for f in files}
        for source_id in target.all_sources():
            if source_id.startswith(str(root) + os.sep) and source_id not in present:
                report += remove_source(target, source_id)
        return report

    # ---------------------------------------------------------------- reading and removing

    def search(self, query: str, k: int = 10, collections: list[str] | None = None,
               where: dict[str, Any] | None = None, method: Method = "hybrid",
               diversity: float | None = None) -> list[Hit]:
        names = collections or self.store.names()
        if not names:
            raise InvalidInputError(f"the knowledge base in {self.store.where} is empty; add something with kb add")
        return search([self.collection(n) for n in names], self.embedder, query, k, where, method, diversity)

    def remove(self, collection: str, targets: list[str]) -> IndexReport:
        """Remove sources (by path) or single records (by id) from ``collection``."""
        c = self.collection(collection)
        sources = c.all_sources()
        report = IndexReport()
        for target in targets:
            resolved = str(Path(target).resolve())
            if resolved in sources or target in sources:
                report += remove_source(c, resolved if resolved in sources else target)
            elif c.records.get(ids=[target], include=[])["ids"]:
                c.records.delete(ids=[target])
                c.bump()
                report.chunks_deleted += 1
            else:
                raise InvalidInputError(f"{target!r} is neither a source nor a record id of {collection!r}; "
                                        f"see them with: animstudio kb list --collection {collection}")
        return report

    def sources(self, collection: str) -> dict[str, dict[str, Any]]:
        return self.collection(collection).all_sources()
