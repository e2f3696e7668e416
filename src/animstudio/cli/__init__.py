"""The ``animstudio`` command line: noun, then verb (``animstudio models install NAME``).

Commands hold no logic: they parse, call the library, and show results and progress. Errors
are printed as one line (``--debug`` shows the traceback); runtime errors exit 1, usage errors 2.
Built-in command groups register through the ``register_commands`` hook, like plugins' do.
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

import animstudio
from animstudio.errors import StudioError
from animstudio.plugins import get_plugin_manager


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

    get_plugin_manager().hook.register_commands(app=app)
    return app


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("ANIMSTUDIO_DEBUG", "") not in ("", "0")
    try:
        # standalone mode: usage errors print themselves and exit 2; our errors come out here
        build_app()(args=args, prog_name="animstudio")
    except StudioError as exc:
        if debug:
            traceback.print_exc()
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("error: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug, not bad input: still one line unless --debug
        if debug:
            traceback.print_exc()
        typer.echo(f"error: internal error {type(exc).__name__}: {exc} (run again with --debug for the "
                   f"traceback and report it)", err=True)
        sys.exit(1)
