"""Parameters that several pipelines share, each declared once with its default, range and help,
and the checks a model cannot make (the clip is a video of an allowed length, the model exists,
the output folder can be written). All run when a job is submitted, before a job or folder exists.

    class Options(ClipOptions):             # clip, output, max_minutes
        seed: int = SEED
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field

from animstudio.backend import Backend
from animstudio.errors import InvalidInputError, StudioError
from animstudio.files import VIDEO_FILES, check_input_file, check_output_folder, suffixes

SEED = 7                 # the plan's sampling seed when none is given
MAX_MINUTES = 10.0       # clips longer than this are refused unless the limit is raised


class ClipOptions(Backend.Options):
    clip: str = Field(min_length=1, description="the clip to work on (a video file)",
                      json_schema_extra=suffixes(*VIDEO_FILES))
    output: str | None = Field(None, description="a folder the results are copied to when the job is done "
                                                 "(new, or one this job kind wrote before)")
    max_minutes: float = Field(MAX_MINUTES, gt=0, le=600, description="clips longer than this many minutes "
                                                                      "are refused")


def styles_field(description: str) -> Any:
    """A list of the editor's style presets (a multiple choice in forms); validate it with
    :func:`animstudio.editing.style_presets.styles_named`."""
    from animstudio.editing.style_presets import STYLES

    return Field(default_factory=list, max_length=8, description=description,
                 json_schema_extra={"items": {"type": "string", "enum": sorted(STYLES)}})


def check_clip(options: ClipOptions, video: bool = True) -> None:
    """Make ``options.clip`` absolute and check it: it exists, and (``video``) it has pictures and is
    no longer than ``max_minutes``. ``output`` is made absolute and checked too."""
    clip = check_input_file(options.clip, "clip")
    if video:
        from animstudio.media import probe, require_video

        info = require_video(probe(clip, count_frames=False))
        if info.duration_s > options.max_minutes * 60:
            raise InvalidInputError(f"{clip.name} lasts {info.duration_s / 60:.1f} min, over the limit of "
                                    f"{options.max_minutes:g} min; cut it shorter or raise --max-minutes")
    options.clip = str(clip.resolve())


def check_output(options: ClipOptions, kind: str) -> None:
    if options.output:
        options.output = str(check_output_folder(Path(options.output).resolve(), kind))


def check_llm(model: str | None) -> None:
    """A model named for planning must be a catalog LLM (installed or installable)."""
    if model:
        from animstudio.llm import check_model

        try:
            check_model(model)
        except StudioError as exc:   # a parameter of the request, whatever the model's own error says
            raise InvalidInputError(f"invalid model: {exc}") from exc
