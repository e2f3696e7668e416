"""``animstudio image``: generate pictures, list the LoRA registry, check characters' consistency."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from animstudio.cli import ui
from animstudio.image.batch import BatchRequest
from animstudio.image.requests import GenerateRequest, SheetRequest
from animstudio.options import with_options

app = typer.Typer(no_args_is_help=True)


def _loras(given: list[str]) -> dict[str, float]:
    """``NAME`` or ``NAME=WEIGHT`` flags as a mapping."""
    from animstudio.errors import InvalidInputError

    out: dict[str, float] = {}
    for item in given:
        name, sep, weight = item.rpartition("=") if "=" in item else (item, "", "1")
        try:
            out[name.strip()] = float(weight)
        except ValueError:
            raise InvalidInputError(f"--lora {item!r}: the weight must be a number, e.g. --lora mira=0.8") from None
    return out


def _controls(given: list[str]) -> list[dict[str, Any]]:
    """``model=...,image=...[,scale=...,preprocessor=...,start=...,end=...]`` flags as control mappings."""
    from animstudio.options import parse_pairs

    return [parse_pairs([p for p in item.split(",") if p.strip()], "--control") for item in given]


@app.command("generate")
@with_options(GenerateRequest, into="request", args=("prompt",), exclude=("loras", "controls"),
              short={"output": "-o", "seed": "-s", "count": "-n", "checkpoint": "-m"})
def generate(
    prompt: str = typer.Argument(..., metavar="PROMPT", help="What the picture shows."),
    lora: list[str] = typer.Option([], "--lora", help="A LoRA from the registry or a file, NAME or NAME=WEIGHT; "
                                                      "repeat for several."),
    control: list[str] = typer.Option([], "--control", help="A ControlNet: model=NAME,image=FILE[,scale=0.8,"
                                                            "preprocessor=canny,start=0,end=1]; repeat for several."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    request: Any = None,
) -> None:
    """Generate pictures from a prompt: PNGs named NAME-SEED.png carrying A1111 parameters, with JSON sidecars."""
    from animstudio.image.commands import generate_to_files
    from animstudio.options import build

    if lora or control:
        request = build(GenerateRequest, {**request.model_dump(exclude_unset=True), "loras": _loras(lora),
                                          "controls": _controls(control)})
    with ui.progress_bar() as on_progress:
        made = generate_to_files(request, on_progress=on_progress)
    if as_json:
        ui.print_json(made.model_dump(mode="json"))
        return
    for path in made.files:
        ui.say(f"wrote {path}")
    ui.say(f"{len(made.files)} image(s) in {made.seconds:.1f} s from {made.checkpoint}")


@app.command("loras")
def loras(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """The LoRA registry (loras.yaml in this folder and in the studio home): names, kinds, triggers, weights."""
    from animstudio.image.loras import load_registry, registry_files

    found = load_registry()
    if as_json:
        ui.print_json({name: {**entry.model_dump(), "folder": str(folder)} for name, (entry, folder) in found.items()})
        return
    if not found:
        ui.say("no LoRAs registered: write a loras.yaml here or in the studio home, e.g.\n"
               "  mira:\n    file: loras/mira.safetensors\n    kind: character\n    triggers: [mira girl]\n"
               "    weight: 0.8")
        return
    ui.table("LoRAs", ["name", "kind", "weight", "triggers", "file"],
             [[name, e.kind, f"{e.weight:g}", ", ".join(e.triggers), e.file] for name, (e, _) in sorted(found.items())])
    ui.say("from " + ", ".join(str(p) for p in registry_files()))


@app.command("batch")
@with_options(BatchRequest, into="request", args=("file",), short={"output": "-o", "checkpoint": "-m"},
              names={"prompts": "--prompt", "seeds": "--seed", "presets": "--preset", "references": "--ref"})
def batch(
    file: Path = typer.Argument(None, metavar="[FILE]", help="Prompts, seeds and presets: .yaml or .csv."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    request: Any = None,
) -> None:
    """Make prompts x seeds x presets into a folder; run it again to finish a batch that was stopped."""
    from animstudio.image.batch import run_batch

    with ui.progress_bar() as on_progress:
        done = run_batch(request, on_progress=on_progress)
    if as_json:
        ui.print_json(done.model_dump(mode="json"))
        return
    scored = [i for i in done.items if i.score is not None]
    ui.say(f"made {done.made} image(s), {done.skipped} already there, in {done.seconds:.1f} s: {done.output}")
    if scored:
        ui.say(f"consistency: {min(i.score for i in scored):.2f} to {max(i.score for i in scored):.2f}; "
               f"{sum(i.tries > 1 for i in scored)} made again")


@app.command("sheet")
@with_options(SheetRequest, into="request", args=("character",), short={"output": "-o", "checkpoint": "-m",
                                                                         "seed": "-s"})
def sheet(
    character: str = typer.Argument(..., metavar="CHARACTER", help="A character of the knowledge base's bible."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    request: Any = None,
) -> None:
    """A character sheet: front, side and back views at one seed, from the character's bible page."""
    from animstudio.image.commands import render_sheet

    with ui.progress_bar() as on_progress:
        done = render_sheet(request, on_progress=on_progress)
    if as_json:
        ui.print_json(done.model_dump(mode="json"))
        return
    ui.say(f"wrote {done.sheet} ({', '.join(done.views)} at seed {done.seed})")


@app.command("check")
def check_cmd(
    images: list[str] = typer.Argument(..., metavar="IMAGE...", help="Pictures or folders of them."),
    ref: list[str] = typer.Option(..., "--ref", help="A reference picture or folder, or a character name with "
                                                     "references; repeat for several."),
    embedder: str = typer.Option("palette", "--embedder", help="The appearance embedder."),
    threshold: float = typer.Option(None, "--threshold", min=-1, max=1, help="The score a picture needs (default: "
                                                                            "the embedder's measured one)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of {image, score, threshold, same}."),
) -> None:
    """Does each picture show the same character as the references? One score per picture."""
    from animstudio.image.commands import check_images
    from animstudio.image.requests import CheckRequest
    from animstudio.options import build

    request = build(CheckRequest, {"images": images, "references": ref, "embedder": embedder, "threshold": threshold})
    found = check_images(request).results
    if as_json:
        ui.print_json(found)
        return
    ui.table(None, ["image", "score", "same"], [[r["image"], f"{r['score']:.3f}", "yes" if r["same"] else "no"]
                                               for r in found])
    ui.say(f"threshold {found[0]['threshold']:.2f}")
