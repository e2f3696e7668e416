"""The one extension point: pluggy hooks, loaded from the entry-point group ``animstudio``.

A plugin is a package with an entry point in that group and one or more ``@hookimpl`` functions::

    # pyproject.toml:  [project.entry-points.animstudio]  mydetector = "mydetector"
    from animstudio.hookspecs import hookimpl

    @hookimpl
    def register_detectors(register):
        register(MyDetector)          # a class with a `name` and an `Options` model

Built-in backends and commands register through the same hooks and the same group.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "animstudio"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[..., None]


@hookspec
def register_llm_engines(register: Register) -> None:
    """Register LLM engine classes (interface: ``chat(request)``)."""


@hookspec
def register_tts_engines(register: Register) -> None:
    """Register text-to-speech engine classes (interface: ``synthesize(text, voice, prosody, language)``)."""


@hookspec
def register_image_backends(register: Register) -> None:
    """Register image generation backend classes (interface: ``generate(request) -> images``)."""


@hookspec
def register_appearance_embedders(register: Register) -> None:
    """Register appearance embedder classes (interface: ``embed(images) -> (n, dim)`` unit vectors)."""


@hookspec
def register_control_preprocessors(register: Register) -> None:
    """Register ControlNet preprocessor classes (interface: ``process(image) -> control image``)."""


@hookspec
def register_search_providers(register: Register) -> None:
    """Register web search providers (interface: ``search(query, k) -> hits``)."""


@hookspec
def register_embedders(register: Register) -> None:
    """Register text embedder classes for the knowledge base (interface: ``embed(texts) -> (n, dim)``)."""


@hookspec
def register_vector_stores(register: Register) -> None:
    """Register vector store classes for the knowledge base (interface: ``collection(name, create)``)."""


@hookspec
def register_detectors(register: Register) -> None:
    """Register shot/scene detector classes (interface: ``process(frame)``)."""


@hookspec
def register_tools(register: Register) -> None:
    """Register tools: typed functions with docstrings, made with ``animstudio.tools.tool``."""


@hookspec
def register_pipelines(register: Register) -> None:
    """Register pipeline classes: creative jobs made of typed steps (interface: ``steps()``)."""


@hookspec
def register_executors(register: Register) -> None:
    """Register executor classes: where batch work's tasks run (interface: ``map()``)."""


@hookspec
def register_commands(app: Any) -> None:
    """Add commands or command groups to the root Typer ``app``."""
