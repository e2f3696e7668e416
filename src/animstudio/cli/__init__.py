"""The ``animstudio`` command line: noun, then verb (``animstudio models install NAME``).

Commands hold no logic: they parse, call the library, and show results and progress. Errors
are printed as one line (``--debug`` shows the traceback); runtime errors exit 1, usage errors 2.
Built-in command groups register through the ``register_commands`` hook, like plugins' do.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import traceback
from typing import Any

import typer

import animstudio
from animstudio.errors import StudioError, describe_invalid
from animstudio.plugins import hookimpls


def _version(value: bool) -> None:
    if value:
        typer.echo(f"animstudio {animstudio.__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    app = typer.Typer(name="animstudio", help="An open-source AI studio for animation.", no_args_is_help=True,
                      add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)

    @app.callback()
    def root(
        debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors."),
        version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                     help="Print the version and exit."),
    ) -> None:
        """An open-source AI studio for animation."""

    _register_commands(app)
    return app


def _name(item: object) -> str:
    callback = getattr(item, "callback", None)
    return getattr(item, "name", None) or (callback.__name__.replace("_", "-") if callback else "")


def _register_commands(app: typer.Typer) -> None:
    """Built-ins and plugins add commands; a failing plugin is skipped, and none may replace a command."""
    for impl in hookimpls("register_commands"):
        taken = {_name(i) for i in app.registered_commands + app.registered_groups}
        before = (len(app.registered_commands), len(app.registered_groups))
        try:
            impl.function(app=app)
        except Exception as exc:
            typer.echo(f"warning: plugin {impl.plugin_name} skipped: register_commands failed: "
                       f"{type(exc).__name__}: {exc}", err=True)
        clashes = []
        for items, start in ((app.registered_commands, before[0]), (app.registered_groups, before[1])):
            for item in list(items[start:]):
                if _name(item) in taken:
                    clashes.append(_name(item))
                    items.remove(item)
        if clashes:
            typer.echo(f"warning: plugin {impl.plugin_name} tried to replace {', '.join(clashes)}; "
                       f"kept the existing command(s)", err=True)


def _finite(param: Any) -> None:
    """Make ``param`` refuse nan and infinity after parsing (alone, in a list or in a tuple)."""
    parse = param.process_value

    def checked(ctx: Any, value: Any) -> Any:
        value = parse(ctx, value)
        values = value if isinstance(value, list | tuple) else (value,)
        if any(isinstance(v, float) and not math.isfinite(v) for v in values):
            raise typer.BadParameter("is not a finite number; give a plain number such as 1.5", ctx=ctx, param=param)
        return value

    param.process_value = checked


def _finite_floats(command: Any) -> Any:
    """Every float option of every command refuses nan and infinity, in one place."""
    for param in command.params:
        _finite(param)
    for sub in getattr(command, "commands", {}).values():
        _finite_floats(sub)
    return command


def _command_path(command: Any, args: list[str]) -> str:
    """``animstudio voice say`` for ``voice say TEXT --rate 0``: the words of ``args`` that name commands."""
    words = ["animstudio"]
    for arg in args:
        sub = getattr(command, "commands", {}).get(arg)
        if arg.startswith("-") or sub is None:
            if not arg.startswith("-"):
                break
            continue
        words.append(arg)
        command = sub
    return " ".join(words)


def _on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwind like Ctrl-C: temp files are removed, child processes stopped


def _is_usage_error(exc: BaseException) -> bool:
    # the command-line parser's own errors carry an exit code and a formatted message
    return hasattr(exc, "exit_code") and hasattr(exc, "format_message")


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("ANIMSTUDIO_DEBUG", "").lower() in ("1", "true", "yes", "on")
    signal.signal(signal.SIGTERM, _on_sigterm)
    command: Any = None
    try:
        command = _finite_floats(typer.main.get_command(build_app()))
        code = command.main(args=args, prog_name="animstudio", standalone_mode=False)
    except StudioError as exc:
        if debug:
            traceback.print_exc()
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        typer.echo("error: interrupted; nothing was left half-written", err=True)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # a bare group: show its help
            typer.echo(exc.format_message())  # type: ignore[attr-defined]
            sys.exit(0)
        if _is_usage_error(exc):
            ctx = getattr(exc, "ctx", None)
            where = ctx.command_path if ctx is not None else "animstudio"
            typer.echo(f"error: {exc.format_message()} (see `{where} --help`)", err=True)
            sys.exit(exc.exit_code)
        if type(exc).__name__ == "ValidationError" and hasattr(exc, "errors"):  # a value out of its range
            if debug:
                traceback.print_exc()
            where = _command_path(command, args) if command is not None else "animstudio"
            typer.echo(f"error: {describe_invalid(exc)} (see `{where} --help`)", err=True)
            sys.exit(2)
        if type(exc).__name__ == "Abort":  # the parser's own interrupt signal
            typer.echo("error: interrupted; nothing was left half-written", err=True)
            sys.exit(130)
        if debug:  # a bug, not bad input: still one line unless --debug
            traceback.print_exc()
        typer.echo(f"error: internal error {type(exc).__name__}: {exc} (run again with --debug for the "
                   f"traceback and report it)", err=True)
        sys.exit(1)
    if code == 130:  # the parser turned an interrupt into an exit code
        typer.echo("error: interrupted; nothing was left half-written", err=True)
    sys.exit(code if isinstance(code, int) else 0)
