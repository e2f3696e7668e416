"""One declaration, many faces: a pydantic ``Options`` model becomes Typer flags, a JSON schema and
the parser of ``-O KEY=VALUE`` pairs.

Each field's flag is ``--field-name``; its type, default and help come from the field (choices
from a ``Literal``, ranges from ``ge``/``le``, help from ``description``); a bool is a
``--flag/--no-flag`` pair. Fields of other types (mappings, nested models) are set with ``-O``.

    class Options(BaseModel):
        threshold: float = Field(0.5, ge=0, le=1, description="how different two frames must be")

    @app.command()
    @with_options(Options, short={"threshold": "-t"})
    def detect(file: Path, options: Options) -> None:   # `options` is the checked model
        ...
"""

from __future__ import annotations

import functools
import inspect
import json
import types
import typing
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from animstudio.errors import InvalidInputError, invalid_input

SIMPLE = (str, int, float, bool, Path)


def flag_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def _plain(annotation: Any) -> tuple[Any, bool] | None:
    """The type a flag takes for ``annotation`` and whether it repeats; None when no flag can take it."""
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return _plain(args[0]) if len(args) == 1 else None
    if origin is typing.Annotated:
        return _plain(get_args(annotation)[0])
    if origin is Literal:
        values = get_args(annotation)
        return (annotation, False) if all(isinstance(v, str) for v in values) else None
    if origin in (list, tuple, set) and get_origin(annotation) is not tuple:
        args = get_args(annotation)
        inner = _plain(args[0]) if args else None
        return (inner[0], True) if inner and not inner[1] else None
    if isinstance(annotation, type) and (issubclass(annotation, SIMPLE) or issubclass(annotation, Enum)):
        return annotation, False
    return None


def _bounds(field: FieldInfo) -> dict[str, Any]:
    """Typer's min/max for a field's ge/le/gt/lt (gt/lt are checked again by the model)."""
    out: dict[str, Any] = {}
    for meta in field.metadata:
        if isinstance(meta, annotated_types.Ge | annotated_types.Gt):
            out["min"] = meta.ge if isinstance(meta, annotated_types.Ge) else meta.gt
        if isinstance(meta, annotated_types.Le | annotated_types.Lt):
            out["max"] = meta.le if isinstance(meta, annotated_types.Le) else meta.lt
    return out


def _help(field: FieldInfo) -> str:
    text = (field.description or "").rstrip(".")
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def flag_fields(model: type[BaseModel], exclude: tuple[str, ...] = ()) -> dict[str, tuple[FieldInfo, Any, bool]]:
    """The fields of ``model`` that become flags: name -> (field, flag type, repeats)."""
    out = {}
    for name, field in model.model_fields.items():
        if name in exclude or field.exclude:
            continue
        plain = _plain(field.annotation)
        if plain is not None:
            out[name] = (field, *plain)
    return out


def cli_parameters(model: type[BaseModel], short: dict[str, str] | None = None, exclude: tuple[str, ...] = (),
                   names: dict[str, str] | None = None, prefix: str = "") -> list[inspect.Parameter]:
    """Typer parameters (keyword-only, named ``prefix + field``) for the flag fields of ``model``.
    ``short`` adds a short flag, ``names`` replaces a field's long flag (kept as it always was)."""
    import typer

    params = []
    for name, (field, kind, repeats) in flag_fields(model, exclude).items():
        decls = [(names or {}).get(name, flag_name(name))]
        if name in (short or {}):
            decls.append((short or {})[name])
        if kind is bool:
            decls = [f"{decls[0]}/--no-{decls[0].removeprefix('--')}", *decls[1:]]
        required = field.is_required()
        default = None if required or repeats or field.default is None else field.default
        option = typer.Option(... if required else default, *decls, help=_help(field),
                              show_default=not required and field.default not in (None, "", []),
                              **({} if repeats else _bounds(field)))
        hint = list[kind] if repeats else (kind if required or field.default is not None else kind | None)
        params.append(inspect.Parameter(prefix + name, inspect.Parameter.KEYWORD_ONLY, default=option,
                                        annotation=hint))
    return params


def parse_pairs(pairs: list[str] | None, flag: str = "-O") -> dict[str, Any]:
    """``KEY=VALUE`` pairs as a mapping; a VALUE that reads as JSON (numbers, true, lists) is taken as such."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"{flag} {pair!r} must look like KEY=VALUE, e.g. {flag} threshold=0.6")
        try:
            out[key.strip().replace("-", "_")] = json.loads(value)
        except ValueError:
            out[key.strip().replace("-", "_")] = value.strip()
    return out


def build(model: type[BaseModel], values: dict[str, Any], what: str = "") -> BaseModel:
    """``model`` from ``values``, or a one-line InvalidInputError naming the bad value and the known names."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise invalid_input(exc, what, model.model_fields) from exc


def with_options(model: type[BaseModel], into: str = "options", short: dict[str, str] | None = None,
                 exclude: tuple[str, ...] = (), names: dict[str, str] | None = None, pairs: bool = False,
                 fixed: dict[str, Any] | None = None, args: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]],
                                                                                        Callable[..., Any]]:
    """A Typer command decorator: the flag fields of ``model`` become the command's options and the
    function receives the checked model as its ``into`` argument. ``pairs`` adds ``-O KEY=VALUE``
    for every field; ``fixed`` gives fields the command sets itself; ``exclude`` leaves fields out;
    ``args`` names the command's own parameters (a positional FILE, say) that fill model fields."""
    prefix = "opt__"

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        hints = typing.get_type_hints(fn, include_extras=True)
        own = [p.replace(annotation=hints.get(name, p.annotation), kind=inspect.Parameter.KEYWORD_ONLY)
               for name, p in inspect.signature(fn).parameters.items() if name != into]
        generated = cli_parameters(model, short, exclude + tuple(fixed or ()) + args, names, prefix)
        taken = {p.name for p in own}
        extra = []
        if pairs:
            import typer

            extra.append(inspect.Parameter(prefix + "_pairs", inspect.Parameter.KEYWORD_ONLY, annotation=list[str],
                                           default=typer.Option([], "--option", "-O", metavar="KEY=VALUE",
                                                                help="Any option as KEY=VALUE (repeat).")))
        clash = taken & {p.name.removeprefix(prefix) for p in generated}
        if clash:
            raise TypeError(f"{fn.__qualname__} declares {', '.join(sorted(clash))} itself and in {model.__name__}")

        @functools.wraps(fn)
        def command(*positional: Any, **kwargs: Any) -> Any:
            values = {k.removeprefix(prefix): v for k, v in kwargs.items() if k.startswith(prefix) and v is not None}
            values.pop("_pairs", None)
            values = {k: v for k, v in values.items() if not (isinstance(v, list) and not v and
                                                              k not in (fixed or {}))}
            values.update(parse_pairs(kwargs.get(prefix + "_pairs")))
            values.update(fixed or {})
            for name in args:
                given = kwargs.pop(name)
                if given is not None:
                    values[name] = str(given) if isinstance(given, Path) else given
            rest = {k: v for k, v in kwargs.items() if not k.startswith(prefix)}
            return fn(*positional, **rest, **{into: build(model, values)})

        params = own + generated + extra
        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        command.options_model = model  # type: ignore[attr-defined]  # for the test that looks for duplicates
        command.options_args = args  # type: ignore[attr-defined]
        return command

    return decorate


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of ``model`` (for the HTTP API, the agent's tools and the web forms)."""
    return model.model_json_schema()
