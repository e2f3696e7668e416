"""The plugin manager: loads the ``animstudio`` entry-point group and answers "which backends exist".

    >>> from animstudio.plugins import get_backend, backends
    >>> backends("detector")                 # {"adaptive": <class ...>, ...}
    >>> get_backend("detector", "nope")      # UnknownBackendError listing the known names

Set ``ANIMSTUDIO_NO_PLUGINS=1`` to load only animstudio's own entry points (tests do).
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from dataclasses import dataclass, field
from typing import Any

import pluggy
from pydantic import BaseModel

from animstudio import hookspecs
from animstudio.errors import PluginError, UnknownBackendError


@dataclass(frozen=True)
class Kind:
    """A kind of backend: the hook that registers it, its base class and the method it must have."""

    hook: str
    base: str            # "module:Class", imported when the kind is first asked for
    method: str

    def base_class(self) -> type:
        module, _, name = self.base.partition(":")
        return getattr(importlib.import_module(module), name)


KINDS: dict[str, Kind] = {
    "detector": Kind("register_detectors", "animstudio.analysis.detector:SceneDetector", "process"),
    "llm_engine": Kind("register_llm_engines", "animstudio.llm.base:Engine", "chat"),
    "tts_engine": Kind("register_tts_engines", "animstudio.voice.base:TTSEngine", "synthesize"),
    "embedder": Kind("register_embedders", "animstudio.knowledge.embedders:TextEmbedder", "embed"),
    "vector_store": Kind("register_vector_stores", "animstudio.knowledge.store:VectorStore", "collection"),
    "image_backend": Kind("register_image_backends", "animstudio.image.base:ImageBackend", "generate"),
    "appearance_embedder": Kind("register_appearance_embedders", "animstudio.image.base:AppearanceEmbedder", "embed"),
    "control_preprocessor": Kind("register_control_preprocessors", "animstudio.image.base:ControlPreprocessor",
                                 "process"),
    "tool": Kind("register_tools", "animstudio.tools:Tool", "__call__"),
    "search_provider": Kind("register_search_providers", "animstudio.agent.web:SearchProvider", "search"),
    "pipeline": Kind("register_pipelines", "animstudio.pipelines.base:Pipeline", "steps"),
    "executor": Kind("register_executors", "animstudio.jobs.executor:Executor", "map"),
}


def check_backend(kind: str, backend: Any, plugin: str = "") -> str:
    """The backend's name, once it is checked against its kind's contract; else a PluginError naming
    the plugin, the class and what it lacks."""
    spec = KINDS[kind]
    base = spec.base_class()
    cls = backend if isinstance(backend, type) else type(backend)
    where = f"{plugin}: " if plugin else ""
    what = _qualname(backend if isinstance(backend, type) else cls)
    if not issubclass(cls, base):
        raise PluginError(f"{where}{what} is registered as a {kind.replace('_', ' ')} but is not one; subclass "
                          f"{base.__module__}.{base.__qualname__} and define {spec.method}()")
    missing = sorted(getattr(cls, "__abstractmethods__", ()) or ())
    if missing:
        raise PluginError(f"{where}{what} does not define {', '.join(m + '()' for m in missing)}, which every "
                          f"{kind.replace('_', ' ')} must have")
    name = getattr(backend, "name", "")
    if not isinstance(name, str) or not name:
        raise PluginError(f"{where}{what} has no name; give it a `name` attribute (the name users type)")
    options = getattr(backend, "Options", None)
    if not (isinstance(options, type) and issubclass(options, BaseModel)):
        raise PluginError(f"{where}{what} has no Options model; give it a nested "
                          f"`class Options({base.__qualname__}.Options)`")
    return name


@dataclass
class PluginInfo:
    name: str
    distribution: str
    version: str
    module: str
    error: str | None = None
    hooks: list[str] = field(default_factory=list)


_pm: pluggy.PluginManager | None = None
_info: list[PluginInfo] = []
_registry: dict[str, dict[str, Any]] = {}


def _load() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    only_own = os.environ.get("ANIMSTUDIO_NO_PLUGINS", "").lower() in ("1", "true", "yes")
    seen: set[str] = set()
    for ep in importlib.metadata.entry_points(group=hookspecs.PROJECT):
        dist = ep.dist.name if ep.dist else "?"
        version = ep.dist.version if ep.dist else "?"
        if (only_own and dist != "animstudio") or ep.value in seen:
            continue
        seen.add(ep.value)
        info = PluginInfo(name=ep.name, distribution=dist, version=version, module=ep.value)
        try:
            module = ep.load()
            pm.register(module, name=ep.value)
            info.hooks = sorted(h.name for h in pm.get_hookcallers(module) or [])
        except Exception as exc:  # a broken plugin must not take the studio down
            info.error = f"{type(exc).__name__}: {exc}"
            print(f"warning: plugin {ep.name} ({dist}) failed to load: {info.error}", file=sys.stderr)
        _info.append(info)
    return pm


def get_plugin_manager() -> pluggy.PluginManager:
    global _pm
    if _pm is None:
        _pm = _load()
    return _pm


def register_module(module: Any, name: str | None = None) -> None:
    """Register a module or object of hook implementations at run time (tests, notebooks)."""
    pm = get_plugin_manager()
    pm.register(module, name=name)
    _info.append(PluginInfo(name=name or getattr(module, "__name__", repr(module)), distribution="(runtime)",
                            version="", module=getattr(module, "__name__", repr(module)),
                            hooks=sorted(h.name for h in pm.get_hookcallers(module) or [])))
    _registry.clear()


def reset() -> None:
    """Forget loaded plugins; the next call loads the entry points again."""
    global _pm
    _pm = None
    _info.clear()
    _registry.clear()


def plugin_info() -> list[PluginInfo]:
    get_plugin_manager()
    return list(_info)


def backends(kind: str) -> dict[str, Any]:
    """Registered backends of ``kind`` by name."""
    if kind not in KINDS:
        raise UnknownBackendError(f"unknown backend kind {kind!r}; kinds: {', '.join(KINDS)}")
    if kind not in _registry:
        found: dict[str, Any] = {}

        def register(backend: Any, name: str | None = None) -> None:
            key = name or check_backend(kind, backend)
            if name:
                check_backend(kind, backend)
            if key in found and found[key] is not backend:
                keep, drop = (found[key], backend) if _is_builtin(found[key]) or not _is_builtin(backend) \
                    else (backend, found[key])
                print(f"warning: two backends register {kind} {key!r}: keeping {_qualname(keep)}, "
                      f"skipping {_qualname(drop)}", file=sys.stderr)
                backend = keep
            found[key] = backend

        call_hook(KINDS[kind].hook, register=register)
        _registry[kind] = found
    return dict(_registry[kind])


def hookimpls(name: str) -> list[Any]:
    """Implementations of hook ``name``: animstudio's own first, then plugins in load order."""
    impls = getattr(get_plugin_manager().hook, name).get_hookimpls()
    return sorted(impls, key=lambda impl: not str(impl.plugin_name).startswith("animstudio."))


def call_hook(name: str, **kwargs: Any) -> None:
    """Call each implementation of hook ``name``; a failing plugin is reported and skipped."""
    for impl in hookimpls(name):
        try:
            impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
        except Exception as exc:
            error = f"{name} failed: {type(exc).__name__}: {exc}"
            for info in _info:
                if info.module == impl.plugin_name:
                    info.error = error
            print(f"warning: plugin {impl.plugin_name} skipped: {error}", file=sys.stderr)


def _qualname(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}"


def _is_builtin(backend: Any) -> bool:
    return str(getattr(backend, "__module__", "")).startswith("animstudio.")


def get_backend(kind: str, name: str) -> Any:
    """The backend of ``kind`` called ``name``; an error lists the names that exist."""
    found = backends(kind)
    if name not in found:
        known = ", ".join(sorted(found)) or "none installed"
        raise UnknownBackendError(f"no {kind.replace('_', ' ')} called {name!r}; known: {known} "
                                  f"(plugins add more: `animstudio plugins list`)")
    return found[name]
