"""``animstudio config``: the effective configuration and where each value came from."""

from __future__ import annotations

import typer

from animstudio.cli import ui

app = typer.Typer(no_args_is_help=True)


@app.command("show")
def show(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Print every setting, its value and its source (default, config.toml, env, argument)."""
    from animstudio.config import explain_settings

    rows = explain_settings()
    if as_json:
        ui.print_json({key: {"value": value, "source": source} for key, value, source in rows})
        return
    from animstudio.config import load_settings

    settings = load_settings()
    ui.table(f"config file: {settings.config_file}" + ("" if settings.config_file.exists() else " (absent)"),
             ["key", "value", "source"], [[k, "" if v is None else v, s] for k, v, s in rows])


@app.command("path")
def path() -> None:
    """Print the path of the config file (it may not exist yet)."""
    from animstudio.config import load_settings

    typer.echo(str(load_settings().config_file))
