"""The knowledge tools (registered through ``register_tools``): each takes one request model of
:mod:`animstudio.knowledge.requests`, the same one the ``animstudio kb`` command's flags come from.

    get_tool("kb.search")(query="who is afraid of the dark?", k=3)     # Found(hits=[...]), best first
    animstudio tools call kb.ask --args '{"question": "What is Giulia afraid of?"}'
"""

from __future__ import annotations

from typing import Any

from animstudio.hookspecs import hookimpl
from animstudio.knowledge import commands
from animstudio.knowledge.indexing import IndexReport
from animstudio.knowledge.requests import AddRequest, Answered, AskRequest, Found, SearchRequest
from animstudio.tools import tool


@tool("kb.add", example={"paths": ["bible.md", "characters.yaml"]}, plan=("collection",))
def add(request: AddRequest) -> IndexReport:
    """Index files or folders into the knowledge base: analyses into films, character and style sheets into
    their collections, other documents (Markdown, text, subtitles, PDF...) into documents or a named
    collection. An unchanged file is skipped; a changed one replaces its chunks."""
    return commands.add_files(request)


@tool("kb.search", example={"query": "who is afraid of the dark?", "k": 3, "method": "hybrid"},
      plan=("k", "collections"))
def search(request: SearchRequest) -> Found:
    """Search the knowledge base by meaning and by words (dense, BM25, or both fused), optionally within
    collections, through a metadata filter and with variety (MMR); each hit with its score, its rank in
    each list and its source."""
    return commands.search_hits(request)


@tool("kb.ask", example={"question": "What is Giulia afraid of?", "k": 3}, plan=("collections",))
def ask(request: AskRequest) -> Answered:
    """Answer a question from the knowledge base with the LLM: it sees only the best passages and must
    quote one; the answer cites the passage and its source, or says it does not know when the passages
    do not answer."""
    return commands.answer_question(request)


@hookimpl
def register_tools(register: Any) -> None:
    """Register this capability's tools."""
    register(add)
    register(search)
    register(ask)
