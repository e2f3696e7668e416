"""Reasoning strategies for writing and judging text with the LLM, each leaving a trace of its
thoughts and scores.

- ``chain_of_thought``: the steps of reasoning, then the answer, in one structured reply.
- ``tree_of_thoughts``: several candidates (``beam`` kept of ``width`` at each of ``depth`` levels),
  each scored by the LLM against a rubric; the best is kept.
- ``reflexion``: a draft, a critique against a rubric, a revision that sees every critique so far,
  until the score reaches the bar or the rounds run out.

Tool use is the other family: ReAct is :mod:`animstudio.agent.chat`, plan-and-execute is
:mod:`animstudio.agent.run`; :func:`choose` picks among them for a task.

    best = reflexion("Write a one-line joke about this shot: a rabbit yawns", RUBRIC, client=client)
    best.text, best.score, best.trace
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from animstudio.errors import StudioError

T = TypeVar("T")


class Reasoned(BaseModel):
    thoughts: list[str] = Field(description="the steps of reasoning, in order", max_length=8)
    answer: str


class Judged(BaseModel):
    score: float = Field(ge=0, le=10, description="0 (fails the rubric) to 10 (meets all of it)")
    problems: list[str] = Field(default_factory=list, max_length=5, description="what keeps it from a 10")


class Draft(BaseModel):
    text: str


class Result(BaseModel):
    text: str
    score: float
    trace: list[dict[str, Any]] = Field(default_factory=list, description="every thought, candidate and score")


def _client(client: Any) -> Any:
    if client is None:
        from animstudio.llm.client import Client

        return Client()
    return client


def chain_of_thought(question: str, client: Any = None, max_tokens: int = 500) -> Result:
    """Reason step by step, then answer."""
    reply = _client(client).structured([
        {"role": "system", "content": "Think step by step in short thoughts, then give the answer."},
        {"role": "user", "content": question}], Reasoned, max_tokens=max_tokens)
    return Result(text=reply.answer, score=0.0, trace=[{"kind": "thought", "text": t} for t in reply.thoughts])


def judge(text: str, task: str, rubric: str, client: Any = None) -> Judged:
    """The LLM's score of ``text`` for ``task`` against ``rubric``."""
    return _client(client).structured([
        {"role": "system", "content": f"You judge writing strictly against this rubric:\n{rubric}\n"
                                      "Score 0-10 and list what keeps it from a 10."},
        {"role": "user", "content": f"Task: {task}\n\nWriting to judge:\n{text}"}], Judged, max_tokens=250)


def _write(task: str, client: Any, temperature: float, seed: int, notes: str = "") -> str:
    messages = [{"role": "system", "content": "You are a comedy writer for animation. Answer with the writing only."},
                {"role": "user", "content": task + (f"\n\n{notes}" if notes else "")}]
    return _client(client).structured(messages, Draft, temperature=temperature, seed=seed, max_tokens=300).text


def tree_of_thoughts(task: str, rubric: str, client: Any = None, width: int = 3, beam: int = 1,
                     depth: int = 1) -> Result:
    """``width`` candidates at each level, judged against ``rubric``; the ``beam`` best are each grown
    into ``width`` revisions at the next level (``depth`` levels); the best of all is kept."""
    client = _client(client)
    trace: list[dict[str, Any]] = []
    frontier: list[tuple[float, str]] = []
    for level in range(depth):
        grown: list[tuple[float, str]] = []
        parents = frontier or [(0.0, "")]
        for parent_score, parent in parents[:beam]:
            for branch in range(width):
                notes = f"Improve this candidate (scored {parent_score:g}/10):\n{parent}" if parent else ""
                text = _write(task, client, 0.9, seed=1000 * level + 10 * branch + 1, notes=notes)
                verdict = judge(text, task, rubric, client)
                trace.append({"kind": "candidate", "level": level, "text": text, "score": verdict.score,
                              "problems": verdict.problems})
                grown.append((verdict.score, text))
        frontier = sorted(grown, key=lambda pair: -pair[0])
    best = max(trace, key=lambda candidate: candidate["score"])   # the first of equals
    return Result(text=best["text"], score=best["score"], trace=trace)


def refine(first: T, critic: Callable[[T], Judged], revise: Callable[[T, list[str], int], T],
           revisions: int = 1, bar: float = 8.0,
           note: Callable[..., None] | None = None) -> tuple[T, float, list[dict[str, Any]]]:
    """The Reflexion loop over any kind of draft: ``critic`` scores a draft; while it scores under
    ``bar`` and revisions are left, ``revise(draft, every problem so far, round)`` makes the next one.
    Returns the best-scored draft, its score (-1 when none was scored) and the trace (each critique,
    each revision); ``note`` sees each critique as it is made. A critic or reviser that fails with a
    studio error ends the rounds with the best draft so far."""
    note = note or (lambda *a, **k: None)
    trace: list[dict[str, Any]] = []
    memory: list[str] = []
    draft, best, best_score = first, first, -1.0
    for round_ in range(1, revisions + 2):
        try:
            verdict = critic(draft)
        except StudioError as exc:
            note(f"round {round_}: the critique failed, the draft stays", error=str(exc))
            break
        trace.append({"kind": "critique", "round": round_, "score": verdict.score, "problems": verdict.problems})
        note(f"critique {round_}: {verdict.score:g}/10", problems=verdict.problems)
        if verdict.score > best_score:
            best, best_score = draft, verdict.score
        if verdict.score >= bar or round_ > revisions:
            break
        memory += verdict.problems
        try:
            draft = revise(draft, memory, round_)
        except StudioError as exc:
            note(f"round {round_}: the revision failed, the best draft stays", error=str(exc))
            break
        trace.append({"kind": "draft", "round": round_, "draft": draft})
    return best, best_score, trace


def reflexion(task: str, rubric: str, client: Any = None, rounds: int = 3, bar: float = 8.0,
              first: str | None = None) -> Result:
    """Draft (or ``first``), critique against ``rubric``, revise with every critique so far in view,
    until the score reaches ``bar`` or ``rounds`` critiques are spent; the best draft is kept."""
    client = _client(client)
    text = first if first is not None else _write(task, client, 0.7, seed=1)

    def revise(last: str, problems: list[str], round_: int) -> str:
        notes = "Your last draft:\n" + last + "\n\nCritiques so far (fix every one):\n- " + "\n- ".join(problems)
        return _write(task, client, 0.7, seed=round_ + 1, notes=notes)

    best, score, steps = refine(text, lambda draft: judge(draft, task, rubric, client), revise,
                                revisions=max(0, rounds - 1), bar=bar)
    trace = [{"kind": "draft", "round": 0, "text": text},
             *({"kind": "draft", "round": t["round"], "text": t["draft"]} if t["kind"] == "draft" else t
               for t in steps)]
    return Result(text=best, score=max(score, 0.0), trace=trace)


def choose(kind: str, confidence: float = 1.0) -> str:
    """The strategy for a task: ``writing`` gets reflexion; a request planned with confidence gets
    plan-and-execute, an uncertain one the ReAct loop (look, then decide); a question, chain of
    thought."""
    if kind == "writing":
        return "reflexion"
    if kind == "question":
        return "chain-of-thought"
    return "plan-and-execute" if confidence >= 0.5 else "react"
