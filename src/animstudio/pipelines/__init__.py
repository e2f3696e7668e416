"""Pipelines: creative jobs made of typed steps (parody, narrate, highlights, render, analyze).

Each is a registered backend of kind ``pipeline``; run one directly, or durably as a job::

    from animstudio.pipelines import get_pipeline
    get_pipeline("highlights", clip="match.mp4", duration_s=20).run("out/")
"""

from __future__ import annotations

from typing import Any

from animstudio.hookspecs import hookimpl
from animstudio.pipelines.base import Pipeline

__all__ = ["Pipeline", "get_pipeline", "pipeline_names"]


@hookimpl
def register_pipelines(register: Any) -> None:
    from animstudio.pipelines.analyze import Analyze
    from animstudio.pipelines.highlights import Highlights
    from animstudio.pipelines.image_batch import ImageBatch
    from animstudio.pipelines.parody import Narrate, Parody
    from animstudio.pipelines.render import Render
    from animstudio.pipelines.tool_call import ToolCall

    for pipeline in (Parody, Narrate, Analyze, Highlights, Render, ImageBatch, ToolCall):
        register(pipeline)


def pipeline_names() -> list[str]:
    from animstudio.plugins import backends

    return list(backends("pipeline"))


def get_pipeline(name: str, params: dict[str, Any] | None = None, **kwargs: Any) -> Pipeline:
    """The pipeline ``name`` with its parameters checked by its ``Options`` model (not yet by ``check()``)."""
    from animstudio.plugins import get_backend

    return get_backend("pipeline", name)(params, **kwargs)
