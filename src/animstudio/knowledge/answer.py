"""Grounded answers: retrieve, give the LLM only the passages, and take back an answer that cites
them by record id, or an honest "I don't know" when the evidence is weak or silent.

    ans = ask(kb, "What is Rick afraid of?")
    ans.answer, ans.citations, ans.abstained       # 'Spiders [character:rick]', ['character:rick'], False
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from animstudio.knowledge.search import Hit

MIN_SIMILARITY = 0.25     # below this cosine similarity the best passage is not about the question
PASSAGE_CHARS = 800
STOPWORDS = frozenset("a an the of in on at to for from by with and or is are was were be been did do does what who "
                      "whom whose which when where why how that this these those it its as into than".split())
DONT_KNOW = "I don't know: the knowledge base has nothing that answers this."


class Reply(BaseModel):
    """What the model must return (the schema constrains its decoding)."""

    quote: str = Field(max_length=300, description="the exact words of one passage that answer the question, "
                                                   "or '' if none do")
    passage: str = Field(max_length=120, description="the id of the passage quoted, or ''")
    answer: str = Field(max_length=120, description="a short answer taken from the quote, or '' if the passages "
                                                    "do not say")


@dataclass
class Answer:
    question: str
    answer: str
    citations: list[str]
    abstained: bool
    reason: str = ""
    passages: list[Hit] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.answer, "citations": self.citations,
                "abstained": self.abstained, "reason": self.reason,
                "passages": [{"id": h.id, "collection": h.collection, "score": round(h.score, 6),
                              "similarity": round(h.scores.get("dense", 0.0), 4)} for h in self.passages]}


def _normal(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)   # Hervé and Herve are one name
    return " ".join("".join(c.lower() if c.isalnum() else " " for c in folded if not unicodedata.combining(c)).split())


def _content(text: str) -> set[str]:
    return {w for w in _normal(text).split() if w not in STOPWORDS}


def _named(question: str) -> list[str]:
    """What the question names: numbers, and capitalised words past its first word."""
    words = re.findall(r"[^\W_][\w'’-]*", question)
    return [w for n, w in enumerate(words) if any(c.isdigit() for c in w) or (n and w[0].isupper() and w != "I")]


def _stem(word: str) -> str:
    return (word[:-1] if len(word) > 3 and word.endswith("s") else word)[:5]


def ungrounded(question: str, answer: str, passage: str) -> str:
    """Why an answer is not grounded in its passage ('' when it is): a number or a name the question
    gives that the passage never mentions (the question asks about something else; names match on
    their first five letters without a plural s, so plurals and possessives count), or an answer made only of the
    question's own words (the roles in the question are swapped)."""
    words = set(_normal(passage).split())
    stems = {_stem(w) for w in words}
    missing = []
    for name in _named(question):
        parts = _normal(re.sub(r"['’]s$", "", name)).split()   # Rick's names Rick
        if any(c.isdigit() for c in name):
            parts = [p for p in parts if any(c.isdigit() for c in p)]
            known = all(p in words for p in parts)
        else:
            known = all(_stem(p) in stems for p in parts)
        if not known:
            missing.append(name)
    if missing:
        return f"the passage never mentions {', '.join(missing)}"
    said = _content(answer)
    if said and len(said & _content(question)) >= 0.6 * len(said):
        return "the answer only repeats the question's own words"
    return ""


SYSTEM = ("You answer questions about an animation studio's knowledge base using ONLY the passages given. "
          "Copy the exact words from one passage that answer the question into `quote`, its id into `passage`, "
          "and a short answer into `answer`. If no passage states the answer, leave all three empty: never guess, "
          "never use outside knowledge.")


def ask(kb: Any, question: str, k: int = 3, collections: list[str] | None = None,
        where: dict[str, Any] | None = None, client: Any = None, max_tokens: int = 160,
        model: str | None = None) -> Answer:
    """Answer ``question`` from the knowledge base with citations, or abstain. The LLM is ``client``,
    else the configured engine (with ``model`` instead of llm.default_model), loaded only when asked."""
    hits = kb.search(question, k=k, collections=collections, where=where)
    best = max((h.scores.get("dense", 0.0) for h in hits), default=0.0)
    if not hits or best < MIN_SIMILARITY:
        return Answer(question, DONT_KNOW, [], True, f"best passage similarity {best:.2f} < {MIN_SIMILARITY}", hits)
    passages = "\n\n".join(f"[{h.id}]\n{h.text[:PASSAGE_CHARS]}" for h in hits)
    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"Passages:\n\n{passages}\n\nQuestion: {question}"}]
    from animstudio.llm import Client, StructuredOutputError, engine

    if client is None:
        client = Client(engine(**({"model": model} if model else {})))
    try:
        reply = client.structured(messages, Reply, max_tokens=max_tokens, temperature=0)
    except StructuredOutputError as exc:
        return Answer(question, DONT_KNOW, [], True, f"the model gave no usable answer ({exc})", hits)
    by_id = {h.id: h for h in hits}
    quoted = by_id.get(reply.passage.strip().strip("[]"))
    if not reply.answer.strip() or quoted is None:
        return Answer(question, DONT_KNOW, [], True, "the passages do not state an answer", hits)
    if not reply.quote.strip() or _normal(reply.quote) not in _normal(quoted.text):
        return Answer(question, DONT_KNOW, [], True, "the model's quote is not in the passage it cites", hits)
    answer = reply.answer.strip()
    if _normal(answer) not in _normal(quoted.text) and not set(_normal(answer).split()) & set(
            _normal(reply.quote).split()):
        return Answer(question, DONT_KNOW, [], True, "the answer is not supported by the quote", hits)
    why = ungrounded(question, answer, quoted.text)
    if why:
        return Answer(question, DONT_KNOW, [], True, why, hits)
    return Answer(question, f"{answer} [{quoted.id}]", [quoted.id], False, "", hits)
