"""The knowledge tools (registered through ``register_tools``)."""

from __future__ import annotations

from typing import Any

from animstudio.hookspecs import hookimpl


@hookimpl
def register_tools(register: Any) -> None:
    """Register this capability's tools."""
