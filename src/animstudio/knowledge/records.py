"""The typed records of the knowledge base, one model per collection.

A record knows the text that is embedded and searched (``text()``) and flattens itself into the
scalar metadata a vector store can filter on (``metadata()``); the whole record travels as JSON
in the metadata too, so it comes back intact.

    rick = CharacterRecord(name="Rick", description="A mad scientist", palette=["#a0c4ff", "white"])
    rick.record_id()            # 'character:rick'
    rick.metadata()["palette"]  # '#a0c4ff, white'
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1
Scalar = str | int | float | bool


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ClassVar[str] = "record"
    id: str | None = Field(None, description="stable id; default from the record's name or content")

    def record_id(self) -> str:
        return self.id or f"{self.kind}:{slug(self._name())}"

    def _name(self) -> str:
        return str(getattr(self, "name", "") or "")

    def text(self) -> str:
        """What is embedded and searched: every filled field as ``label: value`` lines."""
        lines = []
        for key, value in self.model_dump(exclude={"id"}, exclude_none=True).items():
            if value in ("", [], {}):
                continue
            shown = ", ".join(map(str, value)) if isinstance(value, list) else (
                json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, dict) else value)
            lines.append(f"{key.replace('_', ' ')}: {shown}")
        return "\n".join(lines)

    def metadata(self) -> dict[str, Scalar]:
        """Flat scalars for filters (lists joined, dicts as JSON), plus the record itself."""
        meta: dict[str, Scalar] = {"kind": self.kind, "record": self.model_dump_json(exclude_none=True)}
        for key, value in self.model_dump(exclude={"id"}, exclude_none=True).items():
            if isinstance(value, list):
                meta[key] = ", ".join(map(str, value))
            elif isinstance(value, dict):
                meta[key] = json.dumps(value, ensure_ascii=False, sort_keys=True)
            elif isinstance(value, datetime):
                meta[key] = value.isoformat()
            else:
                meta[key] = value
        return meta


class CharacterRecord(Record):
    """A page of the character bible."""

    kind: ClassVar[str] = "character"
    name: str
    description: str = ""
    personality: str = ""
    appearance: str = ""
    palette: list[str] = Field(default_factory=list, description="colours, e.g. '#ff8800' or 'teal'")
    catchphrases: list[str] = Field(default_factory=list)
    voice: str | None = Field(None, description="a character of the voice registry, or ENGINE:VOICE")
    reference_images: list[str] = Field(default_factory=list)
    lora: str | None = None


class StyleRecord(Record):
    """A style guide: what a look is and the presets that make it."""

    kind: ClassVar[str] = "style"
    name: str
    description: str = ""
    palette: list[str] = Field(default_factory=list)
    preset: str | None = Field(None, description="an edit style preset, e.g. cartoon_pop")
    lut: str | None = None


class GenerationRecord(Record):
    """One generated artifact and how it was made (written by jobs)."""

    kind: ClassVar[str] = "generation"
    artifact: str = Field(description="what was made: image, voice, video, text")
    prompt: str
    negative_prompt: str = ""
    model: str = ""
    seed: int | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    output: str = Field("", description="path of the file made")
    quality: dict[str, float] = Field(default_factory=dict, description="scores, e.g. consistency 0.92")
    rating: int | None = Field(None, ge=1, le=5, description="the user's stars")
    job: str | None = None
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def _name(self) -> str:
        from hashlib import sha256

        return sha256(f"{self.artifact}|{self.prompt}|{self.seed}|{self.output}".encode()).hexdigest()[:16]


class ShotRecord(Record):
    """One shot of an analysed film."""

    kind: ClassVar[str] = "shot"
    film: str = Field(description="the analysed video")
    shot: int
    start_s: float
    end_s: float
    start_frame: int
    end_frame: int
    transition: str = ""
    composition: str = ""
    camera: str = ""
    transcript: str = ""

    def _name(self) -> str:
        return f"{self.film}-{self.shot}"


class DocumentChunk(Record):
    """A chunk of a loaded document (Markdown, text, PDF, subtitles, YAML, JSON)."""

    kind: ClassVar[str] = "chunk"
    content: str

    def text(self) -> str:
        return self.content

    def metadata(self) -> dict[str, Scalar]:
        return {"kind": self.kind}


COLLECTIONS: dict[str, type[Record]] = {
    "characters": CharacterRecord,
    "styles": StyleRecord,
    "generations": GenerationRecord,
    "films": ShotRecord,
    "documents": DocumentChunk,
}
