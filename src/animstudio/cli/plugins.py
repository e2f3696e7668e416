"""``animstudio plugins``: what the entry-point group ``animstudio`` brought in."""

from __future__ import annotations

import typer

from animstudio.cli import ui
from animstudio.plugins import KINDS, backends, plugin_info

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_plugins(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List loaded plugins, their hooks, and the backends of every kind."""
    infos = plugin_info()
    kinds = {kind: {name: f"{getattr(b, '__module__', '?')}.{getattr(b, '__qualname__', b)}"
                    for name, b in backends(kind).items()} for kind in KINDS}
    if as_json:
        ui.print_json({"plugins": [vars(i) for i in infos], "backends": kinds})
        return
    ui.table("plugins", ["name", "package", "module", "hooks"],
             [[i.name, f"{i.distribution} {i.version}", i.module, i.error or ", ".join(i.hooks)] for i in infos])
    ui.table("backends", ["kind", "name", "class"],
             [[kind, name, cls] for kind, found in kinds.items() for name, cls in sorted(found.items())])
