"""The agent's decisions, made explicit: each choice between options is a rule with a reason, and is
recorded in the run's trace (and the log) as it is made.

    chosen = Decisions()
    args = chosen.prepare("voice.say", {"text": "Hi!", "output": "hi.wav", "character": "Luca"})
    chosen.made    # [Decision(what="hear the line back", chosen="check", why="...")]
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel

log = logging.getLogger(__name__)

# the voice engines' emotions, and words that call for each
EMOTION_WORDS = {   # first match wins: sarcasm before the happy words it borrows
    "sarcastic": ("oh great", "sure, because", "yeah, right"),
    "angry": ("angry", "furious", "how dare", "!!"), "sad": ("sad", "sorry", "miss you", "cry"),
    "excited": ("wow", "yay", "amazing", "no way"), "happy": ("happy", "great", "love", "wonderful"),
    "scared": ("scared", "afraid", "help!", "run!"), "whisper": ("whisper", "quietly", "shh"),
}


class Decision(BaseModel):
    what: str
    chosen: str
    options: list[str] = []
    why: str


class Decisions:
    """Decisions of one run, in the order they were made."""

    def __init__(self) -> None:
        self.made: list[Decision] = []

    def decide(self, what: str, chosen: str, why: str, options: list[str] | None = None) -> str:
        decision = Decision(what=what, chosen=chosen, options=options or [], why=why)
        self.made.append(decision)
        log.info("decision: %s -> %s (%s)", what, chosen, why)
        return chosen

    def emotion(self, line: str) -> str:
        """The emotion a line is spoken in, from its words and punctuation."""
        lowered = line.lower()
        for emotion, cues in EMOTION_WORDS.items():
            found = [c for c in cues if c in lowered]
            if found:
                return self.decide(f"emotion of {line[:40]!r}", emotion, f"it says {found[0]!r}",
                                   ["neutral", *EMOTION_WORDS])
        return self.decide(f"emotion of {line[:40]!r}", "neutral", "no emotional cue in its words")

    def prepare(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        """``args`` with the choices the studio makes for the user: a line is heard back (so its gate
        has a word error rate); a line without an emotion gets one from its words."""
        args = dict(args)
        if tool == "voice.say":
            if not args.get("check"):
                args["check"] = True
                self.decide("hear the line back", "check", "a word error rate lets the gate catch a garbled take",
                            ["check", "trust the engine"])
            if not args.get("emotion"):
                args["emotion"] = self.emotion(str(args.get("text", "")))
        if tool == "voice.batch" and "check" not in args:
            args["check"] = True
            self.decide("hear the script back", "check", "each line's word error rate is checked",
                        ["check", "trust the engine"])
        return args

    def after_failure(self, tool: str, args: dict[str, Any], attempt: int, fields: set[str]) -> dict[str, Any]:
        """The arguments of the next try of a step that failed its gate: a new seed where the tool has
        one (regenerate), else the same call again."""
        if "seed" in fields:
            seed = int(args.get("seed") or 0) + 1000 * attempt
            self.decide(f"{tool} failed its gate", "regenerate", f"a new seed ({seed}) gives a new take",
                        ["regenerate", "refine", "give up"])
            return {**args, "seed": seed}
        self.decide(f"{tool} failed its gate", "run again", "the tool has no seed; a second take may differ",
                    ["run again", "give up"])
        return args
