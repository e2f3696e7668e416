"""What the agent takes from the knowledge base and gives back to it: the character and style pages a
request names go into the planner's context (as data, never instructions), and every finished run is
recorded into the ``generations`` collection (request, plan, outputs, gate scores), so later runs
and people can look up what worked.

    text, names = bible_context("Draw Luca on a bike")     # ("Luca: a sea monster boy ...", ["Luca"])
    record_run(outcome)                                    # into generations, id "agent-RUN_ID"
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from animstudio.agent.run import Outcome

PAGE_CHARS = 600   # of each page that goes into the planner's context


def _has_knowledge_base() -> bool:
    """Whether there is a knowledge base to read, found without loading one (a server, or the embedded
    store's folder)."""
    from animstudio.config import load_settings

    settings = load_settings()
    if settings.knowledge.vector_store != "chroma" or settings.knowledge.chroma_url:
        return True
    return (settings.home / "knowledge" / "chroma").is_dir()


def bible_context(request: str, kb: Any = None) -> tuple[str, list[str]] | None:
    """The pages of the characters and styles ``request`` names (whole words, any case), as context
    text, and their names; None when there is no knowledge base to ask."""
    if kb is None:
        if not _has_knowledge_base():
            return None
        from animstudio.knowledge.kb import KnowledgeBase

        kb = KnowledgeBase()
    lines, names = [], []
    for collection in ("characters", "styles"):
        for page in kb.records(collection):
            if re.search(rf"(?<!\w){re.escape(page.name)}(?!\w)", request, re.IGNORECASE):
                names.append(page.name)
                lines.append(f"{collection[:-1]} {page.name}: {page.text()[:PAGE_CHARS]}")
    return "\n".join(lines), names


def record_run(outcome: Outcome, kb: Any = None) -> str:
    """Record a finished run into the ``generations`` collection; returns the record's id."""
    from animstudio.knowledge.records import GenerationRecord

    if kb is None:
        from animstudio.knowledge.kb import KnowledgeBase

        kb = KnowledgeBase()
    plan = outcome.plan
    outputs = [str(s.result.get("output")) for s in outcome.steps if s.ok and s.result and s.result.get("output")]
    quality = {f"{s.index}.{s.tool}": float(s.verdict["score"]) for s in outcome.steps
               if s.verdict and s.verdict.get("score") is not None}
    record = GenerationRecord(
        id=f"agent-{outcome.run_id}", artifact="agent run", prompt=plan.request if plan else "",
        parameters={"status": outcome.status, "intent": plan.intent if plan else "",
                    "plan": [{"tool": s.tool, "args": s.args} for s in plan.steps] if plan else [],
                    "declined": plan.declined if plan else None, "message": outcome.message},
        output=", ".join(outputs), quality=quality, job=outcome.run_id)
    kb.add_records("generations", [record], source=f"agent-run:{outcome.run_id}")
    return record.record_id()
