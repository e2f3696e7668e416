"""The knowledge commands behind the tools and ``animstudio kb``: each takes its request model and
returns a result model; none prints.

    add_files(AddRequest(paths=["notes"]))                                # IndexReport(sources_added=2, ...)
    search_hits(SearchRequest(query="portal gun", k=1)).hits[0].id        # '3f2a...:0'
    answer_question(AskRequest(question="Where is the portal gun?")).sources   # ['/notes/rick.md']
"""

from __future__ import annotations

from typing import Any

from animstudio.knowledge.indexing import IndexReport
from animstudio.knowledge.requests import (
    AddRequest,
    Answered,
    AskRequest,
    Found,
    FoundHit,
    Passage,
    SearchRequest,
)
from animstudio.knowledge.search import parse_where
from animstudio.progress import ProgressCallback, ignore


def knowledge_base() -> Any:
    """The configured knowledge base (store: knowledge.vector_store, embedder: knowledge.embedder)."""
    from animstudio.knowledge.kb import KnowledgeBase

    return KnowledgeBase()


def add_files(request: AddRequest, on_progress: ProgressCallback = ignore, kb: Any = None) -> IndexReport:
    kb = kb or knowledge_base()
    return kb.add(list(request.paths), request.collection, request.transcript, on_progress=on_progress)


def search_hits(request: SearchRequest, kb: Any = None) -> Found:
    where = parse_where(request.where)   # checked by the model: this cannot fail
    hits = (kb or knowledge_base()).search(request.query, k=request.k, collections=request.collections or None,
                                           where=where, method=request.method, diversity=request.diversity)
    return Found(query=request.query, hits=[FoundHit(**h.as_dict()) for h in hits])


def answer_question(request: AskRequest, kb: Any = None, client: Any = None) -> Answered:
    from animstudio.knowledge.answer import ask as answer

    if request.model and client is None:
        from animstudio.config import load_settings

        if not load_settings().llm.base_url:   # a name that is not an LLM is refused before anything loads
            from animstudio.llm.engines.embedded import check_model

            check_model(request.model)
    got = answer(kb or knowledge_base(), request.question, k=request.k, collections=request.collections or None,
                 where=parse_where(request.where), client=client, model=request.model)
    source = {h.id: str(h.metadata.get("source", "")) for h in got.passages}
    return Answered(question=got.question, answer=got.answer, citations=got.citations,
                    sources=[source.get(c, "") for c in got.citations], abstained=got.abstained, reason=got.reason,
                    passages=[Passage(id=h.id, collection=h.collection, source=source[h.id], score=round(h.score, 6),
                                      similarity=round(h.scores.get("dense", 0.0), 4)) for h in got.passages])
