"""The agent's typed events in words: the job's event message is the first line, and the CLI prints
every line (a plan's steps under it).

    for line in describe({"kind": "action", "step": 0, "tool": "highlights", "attempt": 1}):
        print(line)                  # step 0: highlights (try 1)
"""

from __future__ import annotations

import json
from typing import Any


def describe(event: dict[str, Any]) -> list[str]:
    """The event in words: one line, or a plan's line followed by one line per step."""
    kind = event.get("kind")
    if kind in ("plan", "replan") and event.get("declined"):
        return [f"declined: {event['declined']}"]
    if kind in ("plan", "replan"):
        steps = event.get("steps") or []
        head = (f"replan: {event.get('why', '')}" if kind == "replan" else
                f"plan: {event.get('intent', '')} ({len(steps)} step{'s' if len(steps) != 1 else ''})")
        return [head, *(f"  {i}. {s['tool']} {json.dumps(s.get('args', {}))}" for i, s in enumerate(steps))]
    if kind == "action":
        return [f"step {event['step']}: {event['tool']} (try {event['attempt']})"]
    if kind == "observation":
        return [f"step {event['step']}: " + (f"error: {event['error']}" if event.get("error") else "done")]
    if kind == "score":
        verdict = "passed" if event.get("passed") else "failed"
        return [f"step {event['step']}: {verdict}" + (f": {event['note']}" if event.get("note") else "")]
    if kind == "decision":
        return [f"decided {event.get('what')}: {event.get('chosen')}"
                + (f" ({event['why']})" if event.get("why") else "")]
    return [f"{kind}: {event['why']}" if event.get("why") else str(kind)]
