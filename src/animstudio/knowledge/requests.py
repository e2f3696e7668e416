"""What the knowledge commands take and give back, declared once: the tools' argument schemas
(``kb.add``, ``kb.search``, ``kb.ask``) and the ``animstudio kb`` flags both come from these models.

    SearchRequest(query="who is afraid of the dark?", where="kind=character").k       # 5
    SearchRequest(query="x", method="fuzzy")        # ValidationError: hybrid, dense or bm25

``kb.add`` gives back an :class:`~animstudio.knowledge.indexing.IndexReport`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from animstudio.errors import InvalidInputError
from animstudio.knowledge.search import Method, parse_where


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _filter_text(value: Any) -> Any:
    """A filter given as a JSON object (by a tool's caller) is kept as its JSON text."""
    return json.dumps(value) if isinstance(value, dict) else value


def _check_filter(value: str | None) -> str | None:
    try:
        parse_where(value)
    except InvalidInputError as exc:
        raise ValueError(str(exc)) from None
    return value


COLLECTION_HELP = "characters, styles, generations, films, documents, or a documents collection of your own"
Collections = Annotated[list[str], Field(description="the collections to search (default: all)")]
Where = Annotated[str | None, BeforeValidator(_filter_text), AfterValidator(_check_filter),
                  Field(description='a metadata filter: KEY=VALUE[,KEY=VALUE] or JSON in Chroma\'s language, '
                                    'e.g. kind=shot or {"start_s": {"$gte": 10}}')]


class AddRequest(Request):
    paths: list[Path] = Field(min_length=1, description="files or folders (every supported file in them)")
    collection: str | None = Field(None, description=f"{COLLECTION_HELP}; default: analyses to films, "
                                                     "`characters:`/`styles:` files to those, the rest to documents")
    transcript: Path | None = Field(None, description="for an analysis: what is said (transcript JSON from voice "
                                                      "transcribe, or subtitles)")


class SearchRequest(Request):
    query: str = Field(min_length=1, description="what to look for, in words")
    k: int = Field(5, ge=1, le=1000, description="how many hits")
    collections: Collections = []
    where: Where = None
    method: Method = Field("hybrid", description="hybrid (dense + BM25, fused), dense or bm25")
    diversity: float | None = Field(None, ge=0, le=1, description="MMR: 0 relevance only ... 1 variety only")


class AskRequest(Request):
    question: str = Field(min_length=1, description="the question, in words")
    k: int = Field(3, ge=1, le=20, description="passages given to the model")
    collections: Collections = []
    where: Where = None
    model: str | None = Field(None, description="the LLM that answers: a catalog model, or the upstream's model "
                                                "when llm.base_url is set (default: llm.default_model)")


class FoundHit(BaseModel):
    id: str = Field(description="the record's id (a character, a shot, a document chunk)")
    score: float = Field(description="the fused score (or the one list's score)")
    collection: str
    text: str
    metadata: dict[str, Any] = Field(description="the record's fields; `source` names the file it came from")
    ranks: dict[str, int] = Field(description="its 1-based rank in each list that found it (dense, bm25)")
    scores: dict[str, float] = Field(description="cosine similarity (dense), BM25 score (bm25)")


class Found(BaseModel):
    query: str
    hits: list[FoundHit] = Field(description="best first")


class Passage(BaseModel):
    id: str
    collection: str
    source: str = Field(description="the file or record batch the passage came from")
    score: float
    similarity: float = Field(description="cosine similarity of passage and question")


class Answered(BaseModel):
    question: str
    answer: str = Field(description="a short answer ending with its citation, or \"I don't know: ...\"")
    citations: list[str] = Field(description="the ids of the passages the answer quotes")
    sources: list[str] = Field(description="the source (file) of each citation")
    abstained: bool = Field(description="true when the knowledge base does not answer the question")
    reason: str = Field(description="why it abstained")
    passages: list[Passage] = Field(description="the passages the model was given, best first")
