"""The knowledge base: characters, styles, generations, analysed films and documents, searched by
meaning and by words at once, kept in step with their sources, and asked questions with citations.

The public API; each name loads its module on first use, so importing the package costs nothing.

    from animstudio.knowledge import KnowledgeBase, SearchRequest, search_hits
    kb = KnowledgeBase()                                  # store: knowledge.vector_store (chroma)
    kb.add(["bible.md", "characters.yaml"])
    search_hits(SearchRequest(query="who is afraid of the dark?", k=3), kb).hits[0].id    # 'character:giulia'
"""

from __future__ import annotations

from animstudio.lazy import lazy_exports

_LAZY = {
    # the knowledge base, its store and its embedders
    "KnowledgeBase": "kb", "IndexReport": "indexing",
    "VectorStore": "store", "Collection": "store", "ChromaStore": "chroma",
    "TextEmbedder": "embedders", "CachedEmbedder": "embedders",
    # records
    "Record": "records", "CharacterRecord": "records", "StyleRecord": "records", "GenerationRecord": "records",
    "ShotRecord": "records", "shot_records": "films", "DocumentChunk": "records", "COLLECTIONS": "records",
    # retrieval and answers
    "Hit": "search", "parse_where": "search", "Answer": "answer", "ungrounded": "answer",
    "evaluate_dataset": "evaluation",
    # the commands, their requests and results (the CLI and the tools call these)
    "add_files": "commands", "search_hits": "commands", "answer_question": "commands",
    "knowledge_base": "commands",
    "AddRequest": "requests", "SearchRequest": "requests", "AskRequest": "requests",
    "Found": "requests", "FoundHit": "requests", "Answered": "requests", "Passage": "requests",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _LAZY)
