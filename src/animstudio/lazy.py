"""Cheap package imports: a package's public names, each imported from its module on first use.

    # animstudio/knowledge/__init__.py
    from animstudio.lazy import lazy_exports
    __getattr__, __dir__, __all__ = lazy_exports(__name__, {"KnowledgeBase": "kb", "Hit": "search"})

``from animstudio.knowledge import KnowledgeBase`` then imports ``animstudio.knowledge.kb`` at that
moment, and ``import animstudio.knowledge`` alone imports nothing else.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, names: dict[str, str | tuple[str, str]]) -> tuple[
        Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """(``__getattr__``, ``__dir__``, ``__all__``) for ``package``, whose public ``names`` map to the
    submodule (relative, dotted) each is defined in, or to ``(submodule, name there)`` for a name
    exported under another one (a function named like its module, which the module's import would
    shadow)."""
    namespace = sys.modules[package].__dict__
    public = sorted(names)

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        where = names[name]
        module, attribute = where if isinstance(where, tuple) else (where, name)
        value = getattr(importlib.import_module(f"{package}.{module}"), attribute)
        namespace[name] = value   # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(public))

    return __getattr__, __dir__, public
