"""Character presets: a character of the knowledge base's bible turned into the prompt pieces that
draw them the same way every time, and the prompt for one scene and view.

    preset = character_preset("Pip")                    # the bible's page for Pip
    prompt, negative = character_prompt(preset, "on a rooftop at dusk", view="side")
    # 'Pip, a courier fox, (spiky orange fur, teal scarf:1.1), orange and teal color scheme,
    #  on a rooftop at dusk, (side view, profile:1.2) <lora:pip:1>'

The prompt's order is fixed: who (name and the description's first sentence), how they look (the
appearance, weighted 1.1), their colours (hex colours named by the nearest colour of a small
table), the scene, then the view. An appearance clause that says what the character lacks ("no
hat", "without glasses") goes to the negative prompt as the thing itself: a diffusion model reads
"no hat" as "hat".
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from animstudio.errors import InvalidInputError, invalid_input

if TYPE_CHECKING:
    from animstudio.knowledge.kb import KnowledgeBase
    from animstudio.knowledge.records import CharacterRecord

# the usual artefacts, kept out of every picture
ARTEFACTS = ("lowres", "worst quality", "low quality", "blurry", "jpeg artifacts", "bad anatomy", "bad hands",
             "extra fingers", "missing fingers", "extra limbs", "deformed", "watermark", "signature", "text")
APPEARANCE_WEIGHT = 1.1
VIEW_WEIGHT = 1.2
# a view: the words that ask for it and what would spoil it
VIEWS: dict[str, tuple[str, str]] = {
    "front": ("front view, looking at viewer", ""),
    "side": ("side view, profile", "front view, looking at viewer"),
    "back": ("back view, from behind", "face, looking at viewer"),
}
# names a diffusion model knows, with a typical sRGB colour for each
COLOURS: dict[str, tuple[int, int, int]] = {
    "black": (0, 0, 0), "dark gray": (64, 64, 64), "gray": (128, 128, 128), "light gray": (200, 200, 200),
    "white": (255, 255, 255), "cream": (255, 248, 220), "beige": (225, 200, 160), "brown": (139, 80, 30),
    "maroon": (128, 0, 0), "red": (220, 20, 30), "pink": (255, 170, 195), "hot pink": (255, 60, 160),
    "magenta": (230, 0, 180), "orange": (255, 140, 0), "gold": (212, 175, 55), "yellow": (255, 225, 0),
    "olive": (128, 128, 0), "lime green": (130, 220, 40), "green": (30, 160, 50), "dark green": (0, 90, 30),
    "mint green": (160, 230, 190), "teal": (0, 128, 128), "turquoise": (64, 224, 208),
    "sky blue": (135, 200, 235), "blue": (30, 80, 220), "navy blue": (0, 20, 100), "purple": (120, 40, 160),
    "lavender": (190, 160, 230),
}
HEX = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
NEGATION = re.compile(r"^(?:no|without)\s+(?:an?\s+|the\s+|any\s+)?(?P<thing>.+)$", re.I)


class CharacterPreset(BaseModel):
    """What draws one character: prompt and negative fragments, colours, LoRA and reference pictures."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(min_length=1, description="the character's name")
    prompt: str = Field(min_length=1, description="who they are and how they look, as prompt words")
    negative: str = Field("", description="what their pictures must not show, as prompt words")
    palette: list[str] = Field(default_factory=list, description="their colours: '#ff8800' or colour words")
    lora: str | None = Field(None, description="their LoRA: a registry name or a .safetensors file")
    lora_weight: float = Field(1.0, ge=-4, le=4, description="the LoRA's weight")
    reference_images: list[str] = Field(default_factory=list, description="pictures of them")

    @field_validator("palette")
    @classmethod
    def _colours(cls, palette: list[str]) -> list[str]:
        for colour in palette:
            if colour.strip().startswith("#") and not HEX.fullmatch(colour.strip()):
                raise ValueError(f"{colour!r} is not a hex colour; write #rrggbb (e.g. #ff8800) or a colour word")
        return [c.strip() for c in palette if c.strip()]


def _lab(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    """CIE L*a*b* of an sRGB colour (D65), where distances follow what the eye sees."""
    def linear(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    xyz = ((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b,
           (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883)
    fx, fy, fz = (t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116 for t in xyz)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


_LAB = {name: _lab(rgb) for name, rgb in COLOURS.items()}


def colour_name(colour: str) -> str:
    """The plain name of a colour: a hex colour's nearest named colour, a colour word as it is.

        colour_name("#ff8800")   # 'orange'
        colour_name("Teal")      # 'teal'
    """
    text = colour.strip()
    if not HEX.fullmatch(text):
        return text.lower()
    digits = text[1:] if len(text) == 7 else "".join(c * 2 for c in text[1:])
    lab = _lab((int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)))
    return min(_LAB, key=lambda name: sum((a - b) ** 2 for a, b in zip(_LAB[name], lab, strict=True)))


def _escaped(text: str) -> str:
    """User text as literal prompt words: A1111 brackets escaped, LoRA tag brackets dropped."""
    return re.sub(r"([\\()\[\]])", r"\\\1", text).replace("<", "").replace(">", "")


def _clauses(text: str) -> list[str]:
    return [c.strip() for c in re.split(r"[,;\n]|\.(?:\s|$)", text) if c.strip()]


def _first_sentence(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0].strip().rstrip(".!?").strip()
    return re.sub(r"^(A|An|The)\b", lambda m: m.group(1).lower(), sentence)


def preset_from_record(record: CharacterRecord) -> CharacterPreset:
    """The preset of a character bible page: the subject and appearance as prompt words, the
    appearance's "no X" / "without X" clauses as negative words, the LoRA at its registry weight."""
    looks, lacks = [], []
    for clause in _clauses(record.appearance):
        negated = NEGATION.match(clause)
        (lacks if negated else looks).append(_escaped(negated.group("thing") if negated else clause))
    subject = [_escaped(record.name)]
    if record.description.strip():
        subject.append(_escaped(_first_sentence(record.description)))
    if looks:
        subject.append(f"({', '.join(looks)}:{APPEARANCE_WEIGHT:g})")
    weight = 1.0
    if record.lora:
        from animstudio.image.loras import load_registry

        known = load_registry().get(record.lora)
        weight = known[0].weight if known else 1.0
    try:
        return CharacterPreset(name=record.name, prompt=", ".join(subject), negative=", ".join(lacks),
                               palette=record.palette, lora=record.lora, lora_weight=weight,
                               reference_images=record.reference_images)
    except ValidationError as exc:
        raise invalid_input(exc, f"character {record.name!r}", fix="fix their page in the knowledge base") from exc


def character_preset(name: str, kb: KnowledgeBase | None = None) -> CharacterPreset:
    """The preset of the character ``name`` (any case) in the knowledge base's ``characters`` collection
    (default: the configured knowledge base)."""
    if kb is None:
        from animstudio.knowledge.kb import KnowledgeBase

        kb = KnowledgeBase()
    records = kb.records("characters")
    for record in records:
        if record.name.strip().lower() == name.strip().lower():
            return preset_from_record(record)
    known = ", ".join(sorted({r.name for r in records})) or "none yet"
    raise InvalidInputError(f"no character {name!r} in the knowledge base (characters: {known}); add their page "
                            f"with: animstudio kb add characters.yaml")


def character_prompt(preset: CharacterPreset, scene: str, view: str | None = None) -> tuple[str, str]:
    """The prompt and negative prompt for ``preset`` in ``scene``, seen from ``view`` (front, side,
    back or None), with the preset's LoRA tag at the end."""
    if view is not None and view not in VIEWS:
        raise InvalidInputError(f"unknown view {view!r}; views: {', '.join(VIEWS)}")
    parts = [preset.prompt]
    colours = list(dict.fromkeys(colour_name(c) for c in preset.palette))
    if colours:
        named = colours[0] if len(colours) == 1 else f"{', '.join(colours[:-1])} and {colours[-1]}"
        parts.append(f"{named} color scheme")
    if scene.strip():
        parts.append(scene.strip())
    asks, spoils = VIEWS[view] if view else ("", "")
    if asks:
        parts.append(f"({asks}:{VIEW_WEIGHT:g})")
    prompt = ", ".join(parts)
    if preset.lora:
        prompt += f" <lora:{preset.lora}:{preset.lora_weight:g}>"
    negative = ", ".join(p for p in (", ".join(ARTEFACTS), spoils, preset.negative) if p)
    return prompt, negative

