"""``animstudio edit``: render OpenTimelineIO timelines, export them for NLEs, make highlight reels.

The flags of ``render``, ``export`` and ``highlights`` are the fields of their request models
(:mod:`animstudio.editing.commands`), the same ones the ``edit.*`` tools take; this module uses the
editing package's public API only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel

from animstudio.cli import ui
from animstudio.editing import ExportRequest, HighlightsRequest, Rendered, RenderRequest
from animstudio.errors import MissingDependencyError
from animstudio.options import with_options

app = typer.Typer(no_args_is_help=True)
# the flags users have always had: -o, -p, -s/--style (repeated), -f, -d/--duration, -m, -t
SHORT = {"output": "-o", "preset": "-p", "styles": "-s", "format": "-f", "duration_s": "-d", "music": "-m",
         "transition": "-t"}
NAMES = {"styles": "--style", "duration_s": "--duration"}


def _argument(model: type[BaseModel], field: str, metavar: str) -> Any:
    """A positional argument that fills ``field`` of ``model``, its help taken from the field."""
    text = (model.model_fields[field].description or "").rstrip(".")
    return typer.Argument(..., metavar=metavar, help=f"{text[:1].upper()}{text[1:]}.")


def _editing() -> None:
    try:
        import opentimelineio  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError.for_extra("opentimelineio", "editing", "Editing") from exc


def _show(result: Rendered, as_json: bool) -> None:
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    extra = f" and {', '.join(Path(p).name for p in result.sidecars)}" if result.sidecars else ""
    ui.say(f"wrote {result.output} ({result.duration_s:.2f} s, {result.frames} frames){extra}")


@app.command("render")
@with_options(RenderRequest, into="request", args=("timeline",), short=SHORT, names=NAMES)
def render_cmd(
    timeline: Path = _argument(RenderRequest, "timeline", "TIMELINE"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    request: Any = None,
) -> None:
    """Render a timeline through one ffmpeg filter graph per segment (progress bar; Ctrl-C leaves no file)."""
    _editing()
    from animstudio.editing import render_timeline

    with ui.progress_bar() as on_progress:
        result = render_timeline(request, on_progress)
    _show(result, as_json)


@app.command("export")
@with_options(ExportRequest, into="request", args=("timeline",), short=SHORT, names=NAMES)
def export_cmd(
    timeline: Path = _argument(ExportRequest, "timeline", "TIMELINE"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    request: Any = None,
) -> None:
    """Write a timeline for Resolve, Premiere, Kdenlive: OTIO, CMX 3600 EDL or Final Cut Pro 7 XML."""
    _editing()
    from animstudio.editing import export_edit

    result = export_edit(request)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    ui.say(f"wrote {result.output}")


@app.command("check")
def check_cmd(
    timeline: Path = typer.Argument(..., metavar="TIMELINE", help="A timeline OTIO can read."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check a timeline (files, ranges, settings) without rendering, and summarise it."""
    _editing()
    from animstudio.editing import Edit, make_plan

    plan = make_plan(Edit.load(timeline).timeline)
    rows = [[i, p.name, p.out_start, p.out_frames, p.join[0] if p.join else "cut"] for i, p in enumerate(plan.pieces)]
    if as_json:
        ui.print_json({"duration_s": plan.duration_s, "frames": plan.frames, "fps": plan.output.fps,
                       "clips": [dict(zip(["index", "name", "start_frame", "frames", "join"], r, strict=True))
                                 for r in rows],
                       "texts": len(plan.texts), "images": len(plan.images), "captions": len(plan.captions),
                       "audio_tracks": [a.name for a in plan.audio]})
        return
    ui.table(f"{plan.duration_s:.2f} s, {plan.frames} frames at {plan.output.fps:g} fps, "
             f"{plan.output.width}x{plan.output.height}", ["#", "clip", "start frame", "frames", "join"], rows)


@app.command("styles")
def styles_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List style presets (combine them: --style warm --style grain)."""
    from animstudio.editing import STYLES

    if as_json:
        ui.print_json(STYLES)
        return
    ui.table("style presets", ["name", "look"], [[k, v] for k, v in sorted(STYLES.items())])


@app.command("highlights")
@with_options(HighlightsRequest, into="request", args=("clip",), short=SHORT, names=NAMES)
def highlights_cmd(
    clip: Path = _argument(HighlightsRequest, "clip", "FILE"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    request: Any = None,
) -> None:
    """Build a highlight reel: the liveliest and loudest moments, in order, with transitions and music."""
    _editing()
    from animstudio.editing import highlight_reel

    with ui.progress_bar() as on_progress:
        result = highlight_reel(request, on_progress)
    _show(result, as_json)
