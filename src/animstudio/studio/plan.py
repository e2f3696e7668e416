"""The plan an LLM writes for a parody: a title, a look, and per shot a caption, the lines spoken
(by the narrator or a character, with an emotion) and a comedic beat. The schema constrains the
model's decoding; the plan is then checked against the film (one entry per shot, lines that fit).

    plan = write_plan(client, analysis, brief="nature documentary", characters=[...])
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from animstudio.studio.briefs import brief_text

Emotion = Literal["neutral", "happy", "sad", "angry", "excited", "whisper", "scared", "sarcastic"]
Beat = Literal["none", "freeze_zoom", "slow_motion", "rewind", "record_scratch", "speed_ramp", "repeat", "title_card"]
Look = Literal["none", "cartoon_pop", "warm", "cool", "vintage", "noir"]
CHARS_PER_SECOND = 14.0     # how much text a voice speaks in a second, about
CAPTION_WIDTH = 0.9         # a caption may use this share of the frame's width


class PlanLine(BaseModel):
    speaker: str = Field(description="'narrator' or a character's name", max_length=40)
    emotion: Emotion = "neutral"
    text: str = Field(min_length=1, max_length=200)


class ShotDraft(BaseModel):
    """What the model writes for one shot (shots come in the clip's order)."""

    caption: str = Field("", max_length=60, description="an on-screen caption, a few words")
    lines: list[PlanLine] = Field(default_factory=list, max_length=2)
    beat: Beat = "none"


class ShotPlan(ShotDraft):
    shot: int = Field(ge=0)


class Plan(BaseModel):
    title: str = Field(min_length=1, max_length=60)
    look: Look = "none"
    shots: list[ShotPlan] = Field(min_length=1)


def draft_model(shots: int, speakers: list[str] | None = None) -> type[BaseModel]:
    """The schema the model fills: exactly one entry per shot, each with at least one line, spoken by
    the narrator or one of ``speakers``."""
    from pydantic import create_model

    who = Literal[tuple(["narrator", *(speakers or [])])]  # type: ignore[valid-type]
    line = create_model("CastLine", __base__=PlanLine, speaker=(who, "narrator"))
    spoken = create_model("SpokenShot", __base__=ShotDraft,
                          lines=(list[line], Field(min_length=1, max_length=2)))  # type: ignore[valid-type]
    return create_model("PlanDraft", title=(str, Field(min_length=1, max_length=60)), look=(Look, "none"),
                        shots=(list[spoken], Field(min_length=shots, max_length=shots)))   # type: ignore[valid-type]


def shortened_model(limits: list[int]) -> type[BaseModel]:
    """The schema of shortened texts: exactly one per text, each at most its limit."""
    from pydantic import create_model

    fields: dict[str, Any] = {f"text_{n + 1}": (str, Field(min_length=1, max_length=max(8, limit)))
                              for n, limit in enumerate(limits)}
    return create_model("Shortened", **fields)


def shots_summary(analysis: Any) -> str:
    comp = {c.shot: c for c in analysis.composition}
    cam = {c.shot: c for c in analysis.camera}
    rows = []
    for s in analysis.shots:
        c, m = comp.get(s.index), cam.get(s.index)
        framing = c.shot_size.replace("_", " ") if c else "?"
        moving = m.label.replace("_", " ") if m else "?"
        rows.append(f"shot {s.index}: {s.start_s:.1f}-{s.end_s:.1f} s ({s.end_s - s.start_s:.1f} s), {framing}, "
                    f"camera {moving}")
    return "\n".join(rows)


def plan_messages(analysis: Any, brief: str, characters: list[dict[str, Any]]) -> list[dict[str, str]]:
    cast = "\n".join(f"- {c['name']}: {c.get('description', '')} {c.get('personality', '')} catchphrases: "
                     f"{c.get('catchphrases', '')}".strip() for c in characters) or "- narrator only"
    budget = "; ".join(f"shot {s.index}: at most {int((s.end_s - s.start_s) * CHARS_PER_SECOND)} characters of speech"
                       for s in analysis.shots)
    return [
        {"role": "system", "content": "You are a comedy writer re-dubbing animated clips. You write short, funny, "
                                      "family-friendly lines that fit each shot's length, and return JSON only."},
        {"role": "user", "content": f"Style of the parody: {brief_text(brief)}\n\nCast:\n{cast}\n\n"
                                    f"The clip's shots:\n{shots_summary(analysis)}\n\nSpeech budget: {budget}.\n\n"
                                    "Write the plan: a title; a look; for EVERY shot, in order, a caption of a few "
                                    "words, one or two lines and a comedic beat (none, freeze_zoom, slow_motion, "
                                    "rewind, record_scratch, speed_ramp, repeat, title_card; use beats sparingly, "
                                    "most shots have none). A line is the exact words a speaker says aloud, never a "
                                    "description of the scene; every line is different and moves the joke on. For "
                                    "example, in a nature documentary the narrator says: \"Here, in the wild "
                                    "meadow, the rare bunny emerges. Magnificent.\" Speakers: 'narrator' or a cast "
                                    "name."},
    ]


def plain_line(text: str) -> str:
    """A written line as words to speak: brackets and asterisks (which line markup would read as
    emotions and stress) and stage directions in brackets removed."""
    import re

    return " ".join(re.sub(r"\[[^\]]*\]|\([^)]*\)|[*\[\]_#<>]", " ", text).split())


def fits(text: str, seconds: float) -> bool:
    return len(text) <= max(12, seconds * CHARS_PER_SECOND)


def caption_fits(text: str, width: int, height: int, size: float = 0.07) -> bool:
    """Whether a caption of text height ``size`` (share of the frame height) fits the frame's width
    (Roboto's average advance is about 0.55 of the text height)."""
    return len(text) * 0.55 * size * height <= CAPTION_WIDTH * width
