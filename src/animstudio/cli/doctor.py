"""``animstudio doctor``: one table of what is installed, working and reachable."""

from __future__ import annotations

import typer
from rich.markup import escape

from animstudio.cli import ui

MARK = {"ok": "[green]ok[/]", "warn": "[yellow]warn[/]", "fail": "[red]FAIL[/]", "info": "[blue]info[/]"}


def doctor(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    deep: bool = typer.Option(False, "--deep", help="Import every extra's modules (slower, catches broken installs)."),
) -> None:
    """Check Python, torch/CUDA, GPU, ffmpeg, extras, models and configured services."""
    from animstudio.doctor import run_checks

    checks = run_checks(deep=deep)
    failed = [c for c in checks if c.status == "fail"]
    if as_json:
        ui.print_json({"ok": not failed, "checks": [c.as_dict() for c in checks]})
    else:
        from rich.table import Table

        t = Table(title="animstudio doctor", header_style="bold")
        for col in ("group", "check", "status", "detail"):
            t.add_column(col, overflow="fold")
        for c in checks:
            t.add_row(c.group, c.name, MARK[c.status], escape(c.detail))
        ui.out.print(t)
        ui.say(f"{len(failed)} problem(s) need fixing" if failed else "all essential checks passed")
    if failed:
        raise typer.Exit(1)
