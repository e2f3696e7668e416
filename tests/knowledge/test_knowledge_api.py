"""animstudio.knowledge's public API: cheap to import, every name resolves to what it names."""

from __future__ import annotations

from public_api import assert_lazy_api


def test_the_knowledge_api_is_lazy_and_whole():
    api = assert_lazy_api("animstudio.knowledge", heavy=("numpy", "chromadb", "sentence_transformers", "bm25s"))
    from animstudio.knowledge.commands import search_hits
    from animstudio.knowledge.store import VectorStore

    assert api.VectorStore is VectorStore and api.search_hits is search_hits
    assert {"KnowledgeBase", "SearchRequest", "AskRequest", "AddRequest", "Found", "Answered"} <= set(api.__all__)
