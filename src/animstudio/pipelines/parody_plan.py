"""The plan an LLM writes for a parody: a title, a look, and per shot a caption, the lines spoken
(by the narrator or a character, with an emotion) and a comedic beat. The schema constrains the
model's decoding; the plan is then checked against the film (one entry per shot, lines that fit).

    schema = draft_model([0, 1, 2], speakers=["Rick"], beats_at={2})
    draft = client.structured(plan_messages(analysis, "sitcom", characters, {2}), schema)
    shots = draft_shots(draft, [0, 1, 2])     # ShotPlan fields, one line per shot
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from animstudio.editing import BEATS, CHARS_PER_SECOND, Beat
from animstudio.pipelines.briefs import brief_text

Emotion = Literal["neutral", "happy", "sad", "angry", "excited", "whisper", "scared", "sarcastic"]
Look = Literal["none", "cartoon_pop", "warm", "cool", "vintage", "noir"]
CAPTION_CHARS = 32          # a caption is a few words
SEGMENT_S = 3.5             # a line is spoken over at least this much picture (short shots share one)
BEAT_SHARE = 3              # about one shot in this many gets a comedic beat
COLOURS = {"black": (0, 0, 0), "white": (255, 255, 255), "grey": (128, 128, 128), "red": (200, 30, 30),
           "orange": (240, 140, 30), "yellow": (240, 220, 60), "green": (40, 160, 60), "blue": (40, 80, 200),
           "purple": (110, 40, 150), "pink": (240, 130, 180), "brown": (120, 80, 40), "sky blue": (120, 190, 240),
           "dark blue": (20, 30, 80), "dark purple": (50, 25, 80), "dark green": (20, 70, 30)}


class PlanLine(BaseModel):
    speaker: str = Field(description="'narrator' or a character's name", max_length=40)
    emotion: Emotion = "neutral"
    text: str = Field(min_length=1, max_length=200)


class ShotPlan(BaseModel):
    """One shot of the plan: what is said over it, its caption and its comedic beat."""

    shot: int = Field(ge=0)
    caption: str = Field("", max_length=60, description="an on-screen caption, a few words")
    lines: list[PlanLine] = Field(default_factory=list, max_length=2)
    beat: Beat = "none"


class Plan(BaseModel):
    title: str = Field(min_length=1, max_length=60)
    look: Look = "none"
    shots: list[ShotPlan] = Field(min_length=1)


def speaking_shots(analysis: Any) -> dict[int, float]:
    """The shots a line starts on, with the seconds of picture it may run over: consecutive shots are
    grouped until they last ``SEGMENT_S`` (short shots share one line, as a voice-over runs on across
    cuts); a short remainder at the end joins the group before it."""
    groups: list[list[Any]] = []
    for shot in analysis.shots:
        if groups and sum(s.end_s - s.start_s for s in groups[-1]) < SEGMENT_S:
            groups[-1].append(shot)
        else:
            groups.append([shot])
    if len(groups) > 1 and sum(s.end_s - s.start_s for s in groups[-1]) < SEGMENT_S / 2:
        last = groups.pop()
        groups[-1] += last
    return {g[0].index: g[-1].end_s - g[0].start_s for g in groups}


def beat_shots(analysis: Any) -> set[int]:
    """The shots that get a comedic beat: the longest third (at least one), where a beat has room."""
    ranked = sorted(analysis.shots, key=lambda s: s.end_s - s.start_s, reverse=True)
    return {s.index for s in ranked[:max(1, len(ranked) // BEAT_SHARE)]}


def draft_model(shots: list[int], speakers: list[str] | None = None,
                beats_at: set[int] | frozenset[int] = frozenset(),
                line_chars: dict[int, int] | None = None) -> type[BaseModel]:
    """The schema the model fills: a title, a look and one flat entry per shot (``shot_1`` ...), each
    a speaker (the narrator or one of ``speakers``), the line, its emotion, a caption and a beat;
    with ``line_chars``, only the shots it names get a line (the others are spoken over). Shots in
    ``beats_at`` must take a beat other than none and the rest take none, so the constrained
    decoding puts the beats where there is room for them. A line may run to three times its budget
    in ``line_chars`` (room for a whole sentence; what is too long is shortened afterwards), which
    keeps the decoding short. Flat, required fields keep a small model from running one sentence
    on through several fields."""
    from pydantic import create_model

    who = Literal[tuple(["narrator", *(speakers or [])])]  # type: ignore[valid-type]
    fields: dict[str, Any] = {}
    for shot in shots:
        beat = Literal[tuple(BEATS)] if shot in beats_at else Literal["none"]  # type: ignore[valid-type]
        parts: dict[str, Any] = {}
        if line_chars is None or shot in line_chars:
            longest = min(200, max(40, (line_chars or {}).get(shot, 67) * 3))
            parts = {"speaker": (who, ...), "emotion": (Emotion, ...),
                     "line": (str, Field(min_length=1, max_length=longest, description="the words spoken aloud"))}
        fields[f"shot_{shot + 1}"] = (create_model(
            f"Shot{shot + 1}", **parts,
            caption=(str, Field(min_length=1, max_length=CAPTION_CHARS, description="2-4 words")),
            beat=(beat, ...)), ...)
    return create_model("PlanDraft", title=(str, Field(min_length=1, max_length=60)), look=(Look, ...),
                        **fields)


def draft_shots(draft: Any, shots: list[int]) -> list[dict[str, Any]]:
    """The draft's entries as ShotPlan fields, in shot order, with lines and captions made plain."""
    out = []
    for shot in shots:
        entry = getattr(draft, f"shot_{shot + 1}")
        text = plain_line(getattr(entry, "line", ""))
        lines = [{"speaker": entry.speaker, "emotion": entry.emotion, "text": text}] if text else []
        caption = plain_line(entry.caption).rstrip(",;: ")
        out.append({"shot": shot, "caption": caption, "lines": lines, "beat": entry.beat})
    return out


def shortened_model(limits: list[int]) -> type[BaseModel]:
    """The schema of shortened texts, one per text. Each may run to half as long again as its limit,
    so the decoding never stops a word halfway; what is still too long is cut with :func:`cut_to`."""
    from pydantic import create_model

    fields: dict[str, Any] = {f"text_{n + 1}": (str, Field(min_length=1, max_length=max(12, limit * 3 // 2)))
                              for n, limit in enumerate(limits)}
    return create_model("Shortened", **fields)


def _common(a: list[str], b: list[str]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def drop_repeats(shots: list[dict[str, Any]]) -> list[str]:
    """Blank captions and drop lines that say again what an earlier shot said (a small model loops);
    returns what was dropped, as decisions. Texts are compared as the words spoken (``normalise``)."""
    from animstudio.voice import normalise

    said: list[list[str]] = []
    shown: set[str] = set()
    dropped = []
    for shot in shots:
        caption = " ".join(normalise(shot["caption"]))
        if caption and caption in shown:
            dropped.append(f"shot {shot['shot']}: caption {shot['caption']!r} repeats an earlier one: left out")
            shot["caption"] = ""
        shown.add(caption)
        kept = []
        for line in shot["lines"]:
            words = normalise(line["text"])   # the same first words (six, or all of the shorter line)
            if any(words and old and _common(words, old) >= min(6, len(words), len(old)) for old in said):
                dropped.append(f"shot {shot['shot']}: line {line['text']!r} repeats an earlier one: left out")
                continue
            said.append(words)
            kept.append(line)
        shot["lines"] = kept
    return dropped


def colour_name(hex_colour: str) -> str:
    rgb = tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return min(COLOURS, key=lambda n: sum((a - b) ** 2 for a, b in zip(COLOURS[n], rgb, strict=True)))


def words_for(seconds: float) -> int:
    """How many words a voice says in ``seconds``, about."""
    return max(2, int(seconds * CHARS_PER_SECOND / 6))


def shots_summary(analysis: Any, beats_at: set[int] | frozenset[int] = frozenset(),
                  speaking: dict[int, float] | None = None) -> str:
    """One line per shot: its length, framing, camera, main colours by name and its word budget
    (or that the line before goes on over it)."""
    speaking = speaking if speaking is not None else {s.index: s.end_s - s.start_s for s in analysis.shots}
    talking = 0
    comp = {c.shot: c for c in analysis.composition}
    cam = {c.shot: c for c in analysis.camera}
    rows = []
    for s in analysis.shots:
        c, m = comp.get(s.index), cam.get(s.index)
        seconds = s.end_s - s.start_s
        colours: list[str] = []
        for swatch in (c.palette if c else []):
            name = colour_name(swatch.hex)
            if swatch.share >= 0.03 and name not in colours:
                colours.append(name)
        framing = c.shot_size.replace("_", " ") + " view" if c else "a view"
        moving = f"camera {m.label.replace('_', ' ')}" if m else "camera still"
        if s.index in speaking:
            talking = s.index
            said = f"Line: at most {words_for(speaking[s.index])} words."
        else:
            said = f"No line: the line of shot {talking + 1} goes on."
        rows.append(f"Shot {s.index + 1}: {seconds:.1f} s, {framing}, {moving}, colours: "
                    f"{', '.join(colours[:3]) or 'unknown'}. {said}"
                    + (" This shot gets a comedic beat." if s.index in beats_at else ""))
    return "\n".join(rows)


def plan_messages(analysis: Any, brief: str, characters: list[dict[str, Any]],
                  beats_at: set[int] | frozenset[int] = frozenset(),
                  speaking: dict[int, float] | None = None) -> list[dict[str, str]]:
    cast = "\n".join(f"- {c['name']}: {c.get('description', '')} {c.get('personality', '')} catchphrases: "
                     f"{c.get('catchphrases', '')}".strip() for c in characters) or "- the narrator only"
    return [
        {"role": "system", "content": "You are a comedy writer re-dubbing animated clips with short, funny, "
                                      "family-friendly lines. You return JSON only."},
        {"role": "user", "content": f"Parody style: {brief_text(brief)}.\n\nCast (speakers):\n{cast}\n\n"
                                    f"The clip, shot by shot:\n{shots_summary(analysis, beats_at, speaking)}\n\n"
                                    "Give the parody a title and a look. For each shot with a line give: "
                                    "speaker ('narrator' or a cast name); line (the exact words the speaker says "
                                    "aloud, within the word limit, never a description such as 'the narrator "
                                    "says'; every line is one whole short sentence that says something new, and "
                                    "the lines tell one small story); emotion (how it is said). For every shot "
                                    "give: caption (2-4 words on screen, a punchline that is not the line); beat "
                                    "(freeze_zoom, slow_motion, rewind, record_scratch, speed_ramp, repeat or "
                                    "title_card where the shot gets one, otherwise none). Example line for a "
                                    "nature documentary: \"Behold, the shy purple blob in its natural habitat.\""},
    ]


def plain_line(text: str) -> str:
    """A written line as words to speak: brackets and asterisks (which line markup would read as
    emotions and stress) and stage directions in brackets removed; a line written as a description
    of someone speaking ('The narrator says, "Hello!"') keeps only the words in quotes."""
    import re

    quoted = re.findall(r'["“]([^"”]+)["”]', text)
    outside = re.sub(r'["“][^"”]*["”]', " ", text)
    if quoted and re.search(r"\b(says?|said|saying|asks?|asked|whispers?|shouts?|narrates?)\b|:\s*$",
                            outside.strip(), re.IGNORECASE):
        text = " ".join(quoted)
    return " ".join(re.sub(r"\[[^\]]*\]|\([^)]*\)|[*\[\]_#<>]", " ", text).split())
