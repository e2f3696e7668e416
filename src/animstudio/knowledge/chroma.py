"""The ``chroma`` vector store: Chroma embedded in the studio home, or a Chroma server
(``url``, default: the setting ``knowledge.chroma_url``). Registered through ``register_vector_stores``.

    store = ChromaStore(path="kb")                # or ChromaStore(url="http://127.0.0.1:8000")
    store.collection("documents", create=True).count()      # 0
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from animstudio.errors import InvalidInputError, MissingDependencyError, ServiceUnavailableError
from animstudio.hookspecs import hookimpl
from animstudio.knowledge.records import SCHEMA_VERSION
from animstudio.knowledge.store import SOURCES_SUFFIX, Collection, VectorStore


class ChromaStore(VectorStore):
    name = "chroma"
    description = "Chroma: a persistent client in the studio home, or a Chroma server"

    def __init__(self, options: Any = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        try:
            import chromadb
            from chromadb.config import Settings
        except ImportError as exc:
            raise MissingDependencyError.for_extra("chromadb", "knowledge", "The knowledge base") from exc
        from animstudio.config import load_settings

        settings = load_settings()
        self.url = self.options.url if self.options.url is not None else settings.knowledge.chroma_url
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
            self.path = Path(self.options.path) if self.options.path else settings.home / "knowledge" / self.name
            self.path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(self.path), settings=quiet)
            self.where = str(self.path)

    def _all_names(self) -> list[str]:
        return [c.name for c in self.client.list_collections()]

    def names(self) -> list[str]:
        return sorted(n for n in self._all_names() if not n.endswith(SOURCES_SUFFIX))

    def collection(self, name: str, create: bool = False, embedder: Any = None) -> Collection:
        self.check_name(name)
        if name not in self.names():
            if not create:
                raise self.missing(name)
            records = self.client.create_collection(name, metadata=self.new_metadata(name, embedder),
                                                    configuration={"hnsw": {"space": "cosine"}},
                                                    embedding_function=None)
        else:
            records = self.client.get_collection(name, embedding_function=None)
            self.check_schema(name, records.metadata, embedder)
        sources = self.client.get_or_create_collection(name + SOURCES_SUFFIX, embedding_function=None,
                                                       metadata={"animstudio_schema": SCHEMA_VERSION})
        return Collection(self, records, sources)

    def drop(self, name: str) -> None:
        self.check_name(name)
        if name not in self.names():
            raise self.missing(name)
        self.client.delete_collection(name)   # a collection of an older schema can be dropped too
        if name + SOURCES_SUFFIX in self._all_names():
            self.client.delete_collection(name + SOURCES_SUFFIX)


@hookimpl
def register_vector_stores(register: Any) -> None:
    register(ChromaStore)
