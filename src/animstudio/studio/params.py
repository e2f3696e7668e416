"""What a creative job may be given: one checked model for the CLI, the HTTP API and scripts.

Everything is checked when the job is submitted, before a job or a folder exists: unknown names,
out-of-range and non-finite numbers, a model that is not a catalog LLM, a clip that is not a video.

    check_params("parody", {"clip": "a.mp4", "seed": 3})   # {"clip": "/abs/a.mp4", "seed": 3, "kind": "parody"}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from animstudio.errors import InvalidInputError, StudioError, describe_invalid
from animstudio.files import check_input_file, check_output_folder


class JobParams(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    clip: str = Field(min_length=1, description="the clip to work on (for render: the timeline)")
    output: str | None = Field(None, description="a new folder the results are copied to when the job is done")
    brief: str | None = Field(None, max_length=2000, description="the parody's angle, in a few words")
    characters: list[str] = Field(default_factory=list, max_length=20, description="characters in the clip")
    model: str | None = Field(None, description="the catalog LLM to plan with (default: the configured one)")
    seed: int = Field(7, ge=0, le=2**32 - 1, description="seed of the plan's sampling")
    max_minutes: float = Field(10.0, gt=0, le=600, description="clips longer than this are refused")
    narrate: bool = Field(False, description="the narrator alone, no beats")
    look: str | None = Field(None, max_length=40, description="a style preset for the render")
    preset: Literal["draft", "medium", "high"] = Field("medium", description="encoder speed/quality")
    duration_s: float = Field(15.0, gt=0, le=3600, description="length of a highlight reel, seconds")


def check_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` checked for a job of ``kind``, with the clip's path made absolute; else a one-line error."""
    try:
        checked = JobParams.model_validate({k: v for k, v in params.items() if k != "kind"})
    except ValidationError as exc:
        raise InvalidInputError(f"{describe_invalid(exc)}; known parameters: "
                                f"{', '.join(JobParams.model_fields)}") from exc
    clip = check_input_file(checked.clip, "clip")
    if kind != "render":   # the others need a video with pictures
        from animstudio.media import probe, require_video

        info = require_video(probe(clip, count_frames=False))
        if info.duration_s > checked.max_minutes * 60:
            raise InvalidInputError(f"{clip.name} lasts {info.duration_s / 60:.1f} min, over the limit of "
                                    f"{checked.max_minutes:g} min; cut it shorter or raise --max-minutes")
    if checked.model:
        from animstudio.llm.engines.embedded import check_model

        try:
            check_model(checked.model)
        except StudioError as exc:   # a parameter of the request, whatever the model's own error says
            raise InvalidInputError(f"invalid model: {exc}") from exc
    values = checked.model_dump(exclude_unset=True) | {"clip": str(clip.resolve()), "kind": kind}
    if checked.output:
        values["output"] = str(check_output_folder(Path(checked.output).resolve(), kind))
    return values
