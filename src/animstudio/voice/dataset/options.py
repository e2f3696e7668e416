"""How a voice dataset is built: one typed model, the source of the defaults, CLI flags and help.

    >>> parse_options(min_seconds=2, names={"Ada": "ada.wav"}).max_seconds
    10.0
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from animstudio.errors import invalid_input

SAME_SPEAKER = 0.65       # see speakers.py: the similarities this comes from
_RESERVED = {"dataset.list", "report.json", "report.md"}
_NAME = re.compile(r"^[^/\\|.\x00-\x1f ][^/\\|\x00-\x1f]{0,63}$")


class DatasetOptions(BaseModel):
    """How a voice dataset is built: the single source of the defaults, CLI flags and help."""

    model_config = ConfigDict(extra="forbid")

    language: str | None = Field(None, description="language of the speech (en, it...); default: detected "
                                                   "on the longest clip")
    min_seconds: float = Field(3.0, gt=0, le=60, description="shortest clip kept for training; shorter "
                                                             "speech is listed in the report as rejected")
    max_seconds: float = Field(10.0, gt=0, le=60, description="longest clip; longer turns are cut at their "
                                                              "quietest moments")
    min_snr_db: float = Field(12.0, ge=0, le=60, description="reject clips whose speech is less than this "
                                                             "many dB above the noise around it")
    same_speaker: float = Field(SAME_SPEAKER, gt=0, lt=1, description="how alike (cosine, 0-1) two stretches "
                                                                      "of voice must be to count as one "
                                                                      "speaker; raise it to split alike voices")
    sample_rate: int | None = Field(None, ge=8000, le=192000, description="sample rate of the clips written; "
                                                                          "default: the input's own")
    names: dict[str, Path] = Field(default_factory=dict, description="speaker name -> a recording of that "
                                                                     "voice; names the speaker most alike")

    @field_validator("names")
    @classmethod
    def _names_are_folder_names(cls, names: dict[str, Path]) -> dict[str, Path]:
        for name in names:
            if not _NAME.match(name) or name != name.strip():
                raise ValueError(f"speaker name {name!r} must be 1-64 characters without / \\ | or a leading "
                                 f"dot or space (it names a folder)")
            if name in _RESERVED:
                raise ValueError(f"speaker name {name!r} is the name of a file the dataset holds; choose another")
        return names

    @model_validator(mode="after")
    def _min_below_max(self) -> DatasetOptions:
        if self.min_seconds > self.max_seconds:
            raise ValueError(f"min_seconds ({self.min_seconds}) is above max_seconds ({self.max_seconds})")
        return self


def parse_options(options: DatasetOptions | dict[str, Any] | None = None, **kwargs: Any) -> DatasetOptions:
    values = options.model_dump() if isinstance(options, BaseModel) else dict(options or {})
    values.update(kwargs)
    try:
        return DatasetOptions.model_validate(values)
    except ValidationError as exc:
        raise invalid_input(exc, "voice dataset", DatasetOptions.model_fields, "known options") from exc


