"""Where the knowledge base lives: a registered :class:`VectorStore` (built in: ``chroma``; plugins add
more through ``register_vector_stores``), chosen by the setting ``knowledge.vector_store``.

A store hands out :class:`Collection` objects. Each collection carries its schema version, embedder
and a revision that every write bumps; a companion collection lists the sources indexed into it.

    store = get_backend("vector_store", "chroma")(path="kb")     # or (url="http://127.0.0.1:8000")
    docs = store.collection("documents", create=True)
    store.names()                                                 # ['documents']

A store's one required method is ``collection(name, create=False, embedder=None)``; it returns a
:class:`Collection` over two objects that speak Chroma's collection API (``get``, ``query``,
``upsert``, ``delete``, ``count``, ``metadata``, ``modify``): the records and the list of sources.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import Any

from pydantic import Field

from animstudio.backend import Backend
from animstudio.errors import InvalidInputError
from animstudio.knowledge.records import COLLECTIONS, SCHEMA_VERSION

SOURCES_SUFFIX = "__sources"
NAME_RULE = "3-60 characters: letters, digits, '-' or '_', starting and ending with a letter or digit"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,58}[A-Za-z0-9]")
PAGE = 5000


class Collection:
    """One collection of records (chunks), its metadata and its list of sources."""

    def __init__(self, store: VectorStore, records: Any, sources: Any) -> None:
        self.store, self.records, self.sources = store, records, sources
        self.name: str = records.name
        self._counted: tuple[int, int] = (-1, 0)

    @property
    def metadata(self) -> dict[str, Any]:
        return dict(self.records.metadata or {})

    @property
    def revision(self) -> int:
        return int(self.metadata.get("revision", 0))

    def bump(self) -> None:
        self.records.modify(metadata={**self.metadata, "revision": self.revision + 1})

    def count(self) -> int:
        return int(self.records.count())

    def cached_count(self) -> int:
        """The record count, asked of the store once per revision (it costs milliseconds at 100k records)."""
        if self._counted[0] != self.revision:
            self._counted = (self.revision, self.count())
        return self._counted[1]

    def all(self, include: tuple[str, ...] = ("documents", "metadatas")) -> dict[str, list[Any]]:
        """Every record, fetched in pages."""
        out: dict[str, list[Any]] = {"ids": [], **{k: [] for k in include}}
        offset = 0
        while True:
            page = self.records.get(limit=PAGE, offset=offset, include=list(include))
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


class VectorStore(Backend):
    """Holds the knowledge base's collections. Subclasses define :meth:`collection`; a store that can
    list and remove collections (the knowledge base needs both) also defines :meth:`names` and
    :meth:`drop`."""

    class Options(Backend.Options):
        url: str | None = Field(None, description="a server holding the store (unset: the setting "
                                                  "knowledge.chroma_url, else embedded in the studio home)")
        path: str | None = Field(None, description="the folder of an embedded store "
                                                   "(default: <home>/knowledge/<store name>)")

    where: str = ""   # the server or folder, as messages name it

    @abstractmethod
    def collection(self, name: str, create: bool = False, embedder: Any = None) -> Collection:
        """The collection ``name``; made when ``create``. An unknown name lists the existing ones
        (:meth:`missing`); a collection written with another schema or embedder is refused
        (:meth:`check_schema`)."""

    def names(self) -> list[str]:
        """The collections held (without their companion source lists)."""
        raise InvalidInputError(f"the vector store {self.name!r} cannot list its collections; "
                                "pick another with the setting knowledge.vector_store")

    def drop(self, name: str) -> None:
        """Remove the collection ``name`` and its list of sources."""
        raise InvalidInputError(f"the vector store {self.name!r} cannot remove collections; "
                                "pick another with the setting knowledge.vector_store")

    def describe(self) -> dict[str, Any]:
        """Where the store is and, per collection, its records, sources, revision, kind and embedder."""
        out = {}
        for name in self.names():
            c = self.collection(name)
            out[name] = {"records": c.count(), "sources": c.sources.count(), "revision": c.revision,
                         **{k: v for k, v in c.metadata.items() if k in ("record_kind", "embedder")}}
        return {"store": self.where, "collections": out}

    # ---------------------------------------------------------------- shared by every store

    @staticmethod
    def check_name(name: str) -> None:
        if not NAME.fullmatch(name) or name.endswith(SOURCES_SUFFIX):
            raise InvalidInputError(f"collection name {name!r}: use {NAME_RULE}")

    def missing(self, name: str) -> InvalidInputError:
        """The error for a collection that does not exist: it lists the ones that do."""
        return InvalidInputError(f"no collection {name!r} in {self.where}; existing: "
                                 f"{', '.join(self.names()) or 'none yet (add something with kb add)'}")

    @staticmethod
    def new_metadata(name: str, embedder: Any = None) -> dict[str, Any]:
        """The metadata a new collection starts with: schema, record kind, revision 0 and embedder."""
        kind = COLLECTIONS.get(name, COLLECTIONS["documents"]).kind
        return {"animstudio_schema": SCHEMA_VERSION, "record_kind": kind, "revision": 0,
                "embedder": getattr(embedder, "name", ""), "dimension": getattr(embedder, "dimension", 0)}

    def check_schema(self, name: str, metadata: dict[str, Any] | None, embedder: Any = None) -> None:
        """Refuse a collection written by another schema version, or embedded by another embedder."""
        meta = metadata or {}
        version = int(meta.get("animstudio_schema", 0))
        if version < SCHEMA_VERSION:
            raise InvalidInputError(f"collection {name!r} in {self.where} has schema version {version}, older "
                                    f"than this animstudio's {SCHEMA_VERSION} and not migratable: remove it "
                                    f"(animstudio kb remove --collection {name} --all) and add its sources again")
        if version > SCHEMA_VERSION:
            raise InvalidInputError(f"collection {name!r} was written by a newer animstudio (schema {version}); "
                                    "upgrade animstudio to read it")
        if embedder is not None and meta.get("embedder") and meta["embedder"] != embedder.name:
            raise InvalidInputError(f"collection {name!r} was embedded with {meta['embedder']}, not "
                                    f"{embedder.name}; search it with that embedder or re-index it")
