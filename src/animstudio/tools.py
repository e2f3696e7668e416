"""Tools: typed functions with docstrings that the CLI, the HTTP API and the agent all call.

A tool's name, description and argument schema come from its signature and docstring, and are
checked when it is defined: every argument needs a type and a line under ``Args:``, the return
type must be a pydantic model (the files written and the figures), and the example arguments must
be valid. A tool never prints; it returns its result.

    class Said(BaseModel):
        wav: str
        seconds: float

    @tool("voice.say", example={"text": "Hello there", "output": "hi.wav"})
    def say(text: str, output: str, voice: str | None = None) -> Said:
        \"\"\"Speak a line and write it as a WAV file.

        Args:
            text: the line to speak
            output: the WAV file to write
            voice: the voice to use (default: the engine's)
        \"\"\"

    say(text="Hi", output="hi.wav")          # arguments checked by say.Options; returns a Said
    say.schema()                             # JSON schema of the arguments

A tool whose one argument is a pydantic model (``def say(request: SayRequest) -> Said``) takes that
model's fields as its arguments: the same model can then give a CLI command its flags
(:func:`animstudio.options.with_options`), so each option is declared once for every face.

Tools are registered through the ``register_tools`` hook; ``animstudio tools list`` shows them.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from animstudio.backend import Backend
from animstudio.errors import InvalidInputError, PluginError, describe_invalid, invalid_input

NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
ARGS = re.compile(r"^\s*Args:\s*$", re.M)


def _docstring(fn: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    """(description, {argument: description}) from a Google-style docstring."""
    doc = inspect.getdoc(fn) or ""
    parts = ARGS.split(doc, maxsplit=1)
    head, rest = (parts[0], parts[1]) if len(parts) == 2 else (doc, "")
    described: dict[str, str] = {}
    current = ""
    for line in rest.splitlines():
        if not line.strip():
            continue
        if re.match(r"^\S", line):   # a section after Args (Returns:, Raises:) ends it
            break
        match = re.match(r"^\s+(\w+)(?:\s*\([^)]*\))?:\s*(.*)$", line)
        if match and (len(line) - len(line.lstrip())) <= 4:
            current = match.group(1)
            described[current] = match.group(2).strip()
        elif current:
            described[current] += " " + line.strip()
    return " ".join(head.split()), described


class Tool(Backend):
    """A typed function as a registered tool; made with :func:`tool`."""

    Options: ClassVar[type[BaseModel]]   # the arguments (each tool instance has its own)

    def __init__(self, fn: Callable[..., BaseModel], name: str, example: dict[str, Any] | None = None,
                 plan: tuple[str, ...] | None = None) -> None:
        where = f"tool {name!r} ({fn.__module__}.{fn.__qualname__})"
        if not NAME.match(name):
            raise PluginError(f"{where}: a tool name is lowercase words joined by '.' or '_', like 'voice.say'")
        description, described = _docstring(fn)
        if not description:
            raise PluginError(f"{where} has no docstring; its first line says what the tool does")
        try:
            hints = typing.get_type_hints(fn, include_extras=True)
        except NameError as exc:
            raise PluginError(f"{where}: a type in its signature cannot be resolved ({exc}); define the types "
                              "it uses at module level") from exc
        result = hints.get("return")
        if not (isinstance(result, type) and issubclass(result, BaseModel)):
            raise PluginError(f"{where} must declare its return type as a pydantic model (files written, figures)")
        params = inspect.signature(fn).parameters
        model = hints.get(next(iter(params), ""))
        self.takes_model = len(params) == 1 and isinstance(model, type) and issubclass(model, BaseModel)
        fields: dict[str, Any] = {}
        for arg, param in ({} if self.takes_model else params).items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise PluginError(f"{where}: *{arg} cannot be described to a caller; name each argument")
            if arg not in hints:
                raise PluginError(f"{where}: argument {arg!r} has no type hint")
            if arg not in described:
                raise PluginError(f"{where}: argument {arg!r} is not described under 'Args:' in the docstring")
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[arg] = (hints[arg], Field(default, description=described[arg]))
        unknown = set(described) - set(fields)
        if unknown and not self.takes_model:
            raise PluginError(f"{where}: the docstring describes {', '.join(sorted(unknown))}, which it does not take")
        self.fn = fn
        self.name = name   # type: ignore[misc]
        self.description = description   # type: ignore[misc]
        self.result = result
        self.Options = model if self.takes_model else create_model(  # type: ignore[misc]
            "".join(part.title() for part in re.split(r"[._]", name)) + "Args",
            __config__=ConfigDict(extra="forbid", allow_inf_nan=False), **fields)
        if self.takes_model and model.model_config.get("extra") != "forbid":
            raise PluginError(f"{where}: its argument model {model.__name__} must forbid extra fields "
                              "(model_config = ConfigDict(extra='forbid')), or a misspelt argument passes unseen")
        self.example = dict(example or {})
        unknown_plan = set(plan or ()) - set(self.Options.model_fields)
        if unknown_plan:
            raise PluginError(f"{where}: plan names {', '.join(sorted(unknown_plan))}, which it does not take")
        self.plan = tuple(plan) if plan is not None else None
        try:
            self.Options.model_validate(self.example)
        except ValidationError as exc:
            raise PluginError(f"{where}: its example arguments are not valid: {describe_invalid(exc)}") from exc
        self.__doc__ = fn.__doc__
        self.__module__ = fn.__module__

    def check(self, arguments: dict[str, Any]) -> BaseModel:
        """The arguments checked by the tool's model; a one-line InvalidInputError otherwise."""
        if not isinstance(arguments, dict):
            raise InvalidInputError(f"{self.name}: arguments must be a JSON object of names and values")
        try:
            return self.Options.model_validate(arguments)
        except ValidationError as exc:
            raise invalid_input(exc, self.name, self.Options.model_fields, "arguments") from exc

    def __call__(self, **arguments: Any) -> BaseModel:
        return self.run(self.check(arguments))

    def run(self, checked: BaseModel) -> BaseModel:
        """Run the tool on arguments :meth:`check` has already checked."""
        if self.takes_model:
            return self.fn(checked)
        return self.fn(**{name: getattr(checked, name) for name in self.Options.model_fields})

    def schema(self) -> dict[str, Any]:
        """The JSON schema of the arguments."""
        return self.Options.model_json_schema()

    def planning_schema(self) -> dict[str, Any]:
        """The arguments an agent's planner decides: the required ones and those the tool names in
        ``plan`` (every one when it names none); the others keep their defaults."""
        schema = self.schema()
        properties = {k: _named_files(v) for k, v in schema.get("properties", {}).items()}
        if self.plan is not None:
            keep = set(schema.get("required", [])) | set(self.plan)
            properties = {k: v for k, v in properties.items() if k in keep}
        return {**schema, "properties": properties}

    def describe(self) -> dict[str, Any]:
        """Name, description, argument schema, result schema and an example: what a caller needs."""
        return {"name": self.name, "description": self.description, "parameters": self.schema(),
                "result": self.result.model_json_schema(), "example": self.example}

    def __repr__(self) -> str:
        return f"<tool {self.name}>"


def _named_files(spec: dict[str, Any]) -> dict[str, Any]:
    """A property annotated with the suffixes of its files, as a planner's grammar needs it: a pattern
    of a name without dots, quotes or backslashes that ends in one of them (so the name ends there)."""
    if "suffixes" not in spec:
        return spec
    spec = dict(spec)
    ends = sorted({e for name in spec.pop("suffixes") for e in (name.lstrip("."), name.lstrip(".").upper())})
    spec["pattern"] = r'^[^".\\]+\.(' + "|".join(ends) + ")$"
    return spec


def tool(name: str, example: dict[str, Any] | None = None,
         plan: tuple[str, ...] | None = None) -> Callable[[Callable[..., BaseModel]], Tool]:
    """Make ``fn`` a :class:`Tool` called ``name``; its contract is checked here, at definition.
    ``plan``: the optional arguments an agent's planner decides (the rest are tuning it leaves alone)."""

    def make(fn: Callable[..., BaseModel]) -> Tool:
        return Tool(fn, name, example, plan)

    return make


def tools() -> dict[str, Tool]:
    """Every registered tool by name."""
    from animstudio.plugins import backends

    return backends("tool")


def get_tool(name: str) -> Tool:
    from animstudio.plugins import get_backend

    return get_backend("tool", name)
