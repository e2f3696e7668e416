"""Options are declared once: every option of the analyze, edit, voice and kb commands that is also
an argument of the tool of the same name (``analyze scenes`` <-> ``analyze.scenes``) or a field of a
registered backend's Options comes from that model, never from a hand-written flag."""

from __future__ import annotations

from typing import Any, get_origin

import pytest
import typer

from animstudio.plugins import KINDS, backends
from animstudio.tools import tools

GROUPS = ("analyze", "edit", "voice", "kb")
PREFIX = "opt__"   # the names animstudio.options gives the flags it generates


def commands() -> list[tuple[str, Any]]:
    from animstudio.cli import build_app

    root = typer.main.get_command(build_app())
    out = []
    for group in GROUPS:
        sub = root.commands[group]
        assert hasattr(sub, "commands"), group
        out += [(f"{group} {name}", command) for name, command in sorted(sub.commands.items())]
    return out


def backend_fields() -> dict[str, str]:
    """Field name -> the backend Options it belongs to, for the kinds whose options the CLI exposes."""
    fields = {}
    for kind in ("detector", "tts_engine", "embedder", "vector_store"):
        if kind in KINDS:
            for name, cls in backends(kind).items():
                for field in cls.Options.model_fields:
                    fields.setdefault(field, f"{kind} {name}")
    return fields


@pytest.mark.parametrize(("path", "command"), commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_no_hand_written_duplicate_of_a_model_field(path, command):
    callback = command.callback
    model = getattr(callback, "options_model", None)
    filled = set(getattr(callback, "options_args", ()))
    tool = tools().get(path.replace(" ", "."))
    own = [p for p in command.params if not (p.name or "").startswith(PREFIX) and p.name not in ("help",)]
    generated = {p.name.removeprefix(PREFIX) for p in command.params if (p.name or "").startswith(PREFIX)}
    modelled = set(model.model_fields) if model is not None else set()
    duplicates = []
    for param in own:
        if param.name in filled:
            continue   # the command's positional argument fills the model field of that name
        if param.name in modelled:
            duplicates.append(f"{param.name} (field of {model.__name__})")
        elif tool is not None and param.name in tool.Options.model_fields:
            duplicates.append(f"{param.name} (argument of tool {tool.name})")
        elif param.name in (fields := backend_fields()) and param.name not in ("name",):
            duplicates.append(f"{param.name} (option of {fields[param.name]})")
    assert not duplicates, f"{path}: hand-written options that a model declares: {', '.join(duplicates)}"
    if tool is not None and "_pairs" not in generated:   # the command reaches every argument of its tool
        missing = set(tool.Options.model_fields) - generated - filled
        if any(getattr(p, "multiple", False) for p in own):   # a mapping is given as repeated KEY=VALUE
            missing = {m for m in missing if get_origin(tool.Options.model_fields[m].annotation) is not dict}
        assert not missing, f"{path}: tool {tool.name}'s arguments {sorted(missing)} have no flag"
