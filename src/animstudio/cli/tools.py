"""``animstudio tools``: every capability as a typed tool; list them with their schemas, call one."""

from __future__ import annotations

import json

import typer

from animstudio.cli import ui

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def tools_list(as_json: bool = typer.Option(False, "--json", help="Print each tool with its JSON schemas.")) -> None:
    """Every registered tool: its name, what it does and its arguments."""
    from animstudio.tools import tools

    found = sorted(tools().items())
    if as_json:
        ui.print_json([t.describe() for _, t in found])
        return
    ui.table("tools", ["name", "arguments", "description"],
             [[name, ", ".join(f"{k}{'' if f.is_required() else '?'}" for k, f in t.Options.model_fields.items()),
               t.description[:100]] for name, t in found])


@app.command("call")
def tools_call(
    name: str = typer.Argument(..., metavar="NAME", help="A tool's name (see `animstudio tools list`)."),
    args: str = typer.Option("{}", "--args", help="The arguments as a JSON object."),
) -> None:
    """Run one tool with JSON arguments and print its result as JSON."""
    from animstudio.tools import get_tool

    found = get_tool(name)
    try:
        arguments = json.loads(args)
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON ({exc.msg} at character {exc.pos}); give an object like "
                                 f"'{json.dumps(found.example)}'", param_hint="--args") from None
    if not isinstance(arguments, dict):
        raise typer.BadParameter("give a JSON object of argument names and values", param_hint="--args")
    from animstudio.errors import InvalidInputError

    try:
        checked = found.check(arguments)
    except InvalidInputError as exc:
        raise typer.BadParameter(str(exc), param_hint="--args") from None
    ui.print_json(found.run(checked).model_dump(mode="json"))
