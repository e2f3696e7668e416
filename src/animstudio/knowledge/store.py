"""Where the knowledge base lives: Chroma, embedded in the studio home or a server
(``knowledge.chroma_url``). Each collection carries its schema version, embedder and a revision
that every write bumps; a companion collection lists the sources indexed into it.

    store = Store()                         # or Store(url="http://127.0.0.1:8000")
    docs = store.collection("documents", create=True)
    store.names()                           # ['documents']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from animstudio.errors import InvalidInputError, MissingDependencyError, ServiceUnavailableError
from animstudio.knowledge.records import COLLECTIONS, SCHEMA_VERSION

SOURCES_SUFFIX = "__sources"
NAME_RULE = "3-60 characters: letters, digits, '-' or '_', starting and ending with a letter or digit"
PAGE = 5000


class Collection:
    """One collection of records (chunks), its metadata and its list of sources."""

    def __init__(self, store: Store, chroma: Any, sources: Any) -> None:
        self.store, self.chroma, self.sources = store, chroma, sources
        self.name: str = chroma.name
        self._counted: tuple[int, int] = (-1, 0)

    @property
    def revision(self) -> int:
        return int(self.chroma.metadata.get("revision", 0))

    def bump(self) -> None:
        meta = dict(self.chroma.metadata)
        meta["revision"] = self.revision + 1
        self.chroma.modify(metadata=meta)

    def count(self) -> int:
        return int(self.chroma.count())

    def cached_count(self) -> int:
        """The record count, asked of Chroma once per revision (it costs milliseconds at 100k records)."""
        if self._counted[0] != self.revision:
            self._counted = (self.revision, self.count())
        return self._counted[1]

    def all(self, include: tuple[str, ...] = ("documents", "metadatas")) -> dict[str, list[Any]]:
        """Every record, fetched in pages."""
        out: dict[str, list[Any]] = {"ids": [], **{k: [] for k in include}}
        offset = 0
        while True:
            page = self.chroma.get(limit=PAGE, offset=offset, include=list(include))
            if not page["ids"]:
                return out
            out["ids"] += page["ids"]
            for k in include:
                out[k] += list(page[k])
            offset += len(page["ids"])

    def source(self, source_id: str) -> dict[str, Any] | None:
        got = self.sources.get(ids=[source_id], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else None

    def all_sources(self) -> dict[str, dict[str, Any]]:
        got = self.sources.get(include=["metadatas"])
        return {i: dict(m) for i, m in zip(got["ids"], got["metadatas"], strict=True)}

    def set_source(self, source_id: str, meta: dict[str, Any]) -> None:
        self.sources.upsert(ids=[source_id], embeddings=[[1.0]], metadatas=[meta])

    def drop_source(self, source_id: str) -> None:
        self.sources.delete(ids=[source_id])


class Store:
    def __init__(self, url: str | None = None, path: str | os.PathLike[str] | None = None) -> None:
        try:
            import chromadb
            from chromadb.config import Settings
        except ImportError as exc:
            raise MissingDependencyError.for_extra("chromadb", "knowledge", "The knowledge base") from exc
        from animstudio.config import load_settings

        settings = load_settings()
        self.url = url if url is not None else settings.knowledge.chroma_url
        quiet = Settings(anonymized_telemetry=False)
        if self.url:
            parts = urlsplit(self.url if "://" in self.url else f"http://{self.url}")
            if not parts.hostname:
                raise InvalidInputError(f"knowledge.chroma_url {self.url!r} is not a URL; give one like "
                                        "http://127.0.0.1:8000")
            try:
                self.client = chromadb.HttpClient(host=parts.hostname, port=parts.port or 8000,
                                                  ssl=parts.scheme == "https", settings=quiet)
                self.client.heartbeat()
            except Exception as exc:
                raise ServiceUnavailableError(f"the Chroma server at {self.url} does not answer "
                                              f"({type(exc).__name__}); start it (chroma run --path DIR --port "
                                              "PORT) or unset knowledge.chroma_url to use the embedded store") from exc
            self.where = self.url
        else:
            self.path = Path(path) if path else settings.home / "knowledge" / "chroma"
            self.path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(self.path), settings=quiet)
            self.where = str(self.path)

    def names(self) -> list[str]:
        return sorted(c.name for c in self.client.list_collections() if not c.name.endswith(SOURCES_SUFFIX))

    def collection(self, name: str, create: bool = False, embedder: Any = None) -> Collection:
        """The collection ``name``; made when ``create`` (the five built-in ones, or any name for
        documents). An unknown name lists the existing ones; an older schema says what to do."""
        import re

        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{1,58}[A-Za-z0-9]", name) or name.endswith(SOURCES_SUFFIX):
            raise InvalidInputError(f"collection name {name!r}: use {NAME_RULE}")
        if name not in self.names():
            if not create:
                raise InvalidInputError(f"no collection {name!r} in {self.where}; existing: "
                                        f"{', '.join(self.names()) or 'none yet (add something with kb add)'}")
            kind = COLLECTIONS.get(name, COLLECTIONS["documents"]).kind
            meta = {"animstudio_schema": SCHEMA_VERSION, "record_kind": kind, "revision": 0,
                    "embedder": getattr(embedder, "name", ""), "dimension": getattr(embedder, "dimension", 0)}
            chroma = self.client.create_collection(name, metadata=meta, configuration={"hnsw": {"space": "cosine"}},
                                                   embedding_function=None)
        else:
            chroma = self.client.get_collection(name, embedding_function=None)
            self._check_schema(chroma, embedder)
        sources = self.client.get_or_create_collection(name + SOURCES_SUFFIX, embedding_function=None,
                                                       metadata={"animstudio_schema": SCHEMA_VERSION})
        return Collection(self, chroma, sources)

    def _check_schema(self, chroma: Any, embedder: Any) -> None:
        meta = chroma.metadata or {}
        version = int(meta.get("animstudio_schema", 0))
        if version < SCHEMA_VERSION:
            raise InvalidInputError(f"collection {chroma.name!r} in {self.where} has schema version {version}, older "
                                    f"than this animstudio's {SCHEMA_VERSION} and not migratable: remove it "
                                    f"(animstudio kb remove --collection {chroma.name}) and add its sources again")
        if version > SCHEMA_VERSION:
            raise InvalidInputError(f"collection {chroma.name!r} was written by a newer animstudio (schema {version}); "
                                    "upgrade animstudio to read it")
        if embedder is not None and meta.get("embedder") and meta["embedder"] != embedder.name:
            raise InvalidInputError(f"collection {chroma.name!r} was embedded with {meta['embedder']}, not "
                                    f"{embedder.name}; search it with that embedder or re-index it")

    def drop(self, name: str) -> None:
        self.collection(name)   # an unknown name lists the known ones
        self.client.delete_collection(name)
        if name + SOURCES_SUFFIX in [c.name for c in self.client.list_collections()]:
            self.client.delete_collection(name + SOURCES_SUFFIX)

    def describe(self) -> dict[str, Any]:
        out = {}
        for name in self.names():
            c = self.collection(name)
            out[name] = {"records": c.count(), "sources": c.sources.count(), "revision": c.revision,
                         **{k: v for k, v in (c.chroma.metadata or {}).items() if k in ("record_kind", "embedder")}}
        return {"store": self.where, "collections": out}
