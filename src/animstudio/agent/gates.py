"""Quality gates: after a step, is its result good enough to build on?

A gate reads the step's arguments and its result and gives a verdict with a score where there is
one: a voice line heard back (word error rate), a reel or render of the length asked for, a picture
of a character scored against the character's reference images. A tool without a gate passes.

    gate("voice.say", {"text": "Hi", "check": True, ...}, said.model_dump())   # Verdict(passed=True, score=0.0...)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel


class Verdict(BaseModel):
    passed: bool
    score: float | None = None
    note: str = ""


def _voice(args: dict[str, Any], result: dict[str, Any]) -> Verdict:
    heard = result.get("check")
    if not heard:
        return Verdict(passed=True, note="not heard back")
    wer, limit = float(heard["wer"]), float(args.get("max_wer", 0.35))
    return Verdict(passed=wer <= limit, score=round(1 - wer, 3),
                   note=f"heard back with a word error rate of {wer:.2f} (at most {limit:.2f})")


def _length(args: dict[str, Any], result: dict[str, Any]) -> Verdict:
    got = float(result.get("duration_s") or 0)
    wanted = args.get("duration_s")
    if got <= 0:
        return Verdict(passed=False, score=0.0, note="the video is empty")
    if wanted is None:
        return Verdict(passed=True, note=f"{got:.1f} s long")
    off = abs(got - float(wanted))
    ok = off <= max(0.5, 0.05 * float(wanted))
    return Verdict(passed=ok, score=round(max(0.0, 1 - off / float(wanted)), 3),
                   note=f"{got:.1f} s long for {float(wanted):g} s asked")


def _character_picture(args: dict[str, Any], result: dict[str, Any]) -> Verdict:
    character = args.get("character")
    if not character or not result.get("files"):
        return Verdict(passed=True, note="no character to compare with")
    from animstudio.image.characters import character_preset
    from animstudio.image.consistency import check

    references = character_preset(character).reference_images
    if not references:
        return Verdict(passed=True, note=f"{character} has no reference images to compare with")
    scores = check(result["files"], references)
    worst = min(s.score for s in scores)
    return Verdict(passed=all(s.same for s in scores), score=round(worst, 3),
                   note=f"looks like {character}: {worst:.2f} at worst (threshold {scores[0].threshold:.2f})")


GATES: dict[str, Callable[[dict[str, Any], dict[str, Any]], Verdict]] = {
    "voice.say": _voice,
    "edit.highlights": _length,
    "edit.render": _length,
    "image.generate": _character_picture,
}


def gate(tool: str, args: dict[str, Any], result: dict[str, Any]) -> Verdict:
    """The verdict on one step's result (a tool without a gate passes)."""
    judge = GATES.get(tool)
    return judge(args, result) if judge else Verdict(passed=True)
