"""``animstudio analyze``: shots, camera motion, composition, coherence, audio and the full report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from animstudio.analysis.commands import AudioRequest, DetectRequest, ReportRequest, ScenesRequest, VideoRequest
from animstudio.cli import ui
from animstudio.options import parse_pairs, with_options
from animstudio.plugins import backends

app = typer.Typer(no_args_is_help=True)

OPTION_HELP = "A detector option as KEY=VALUE; repeat for more (see `animstudio analyze detectors`)."


def _detecting(request: Any, option: list[str]) -> Any:
    """``request`` with the detector options given as ``-O KEY=VALUE`` (checked by the detector's Options)."""
    return request.model_copy(update={"options": parse_pairs(option, "--option")}) if option else request


@app.command("detectors")
def detectors(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List shot detectors and their options (name, default, meaning)."""
    rows = []
    for name, cls in sorted(backends("detector").items()):
        opts = {k: {"default": f.default, "description": f.description or ""}
                for k, f in cls.Options.model_fields.items()}
        rows.append({"name": name, "description": getattr(cls, "description", ""), "options": opts})
    if as_json:
        ui.print_json(rows)
        return
    ui.table("shot detectors (default: animation)", ["name", "description", "options"],
             [[r["name"], r["description"], ", ".join(f"{k}={v['default']}" for k, v in r["options"].items())]
              for r in rows])


@app.command("scenes")
@with_options(ScenesRequest, into="request", args=("file",), short={"detector": "-d"})
def scenes(
    file: Path = typer.Argument(..., metavar="FILE", help="A video file."),
    option: list[str] = typer.Option([], "--option", "-O", metavar="KEY=VALUE", help=OPTION_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    request: Any = None,
) -> None:
    """Find shots: hard cuts, flashes (not cuts), fades and dissolves with their frame spans."""
    from animstudio.analysis.commands import find_scenes

    with ui.progress_bar() as on_progress:
        result = find_scenes(_detecting(request, option), on_progress)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    ui.say(f"{len(result.shots)} shots, cuts at {result.cuts}"
           + (f", flashes at {result.flashes}" if result.flashes else ""))
    ui.table(None, ["#", "frames", "seconds"], [[s.index, f"{s.start_frame}-{s.end_frame - 1}",
                                                f"{s.start_s:.3f}-{s.end_s:.3f}"] for s in result.shots])
    for t in result.transitions:
        ui.say(f"{t.type}{' (' + t.color + ')' if t.color else ''}: frames {t.start_frame}-{t.end_frame - 1}")


@app.command("camera")
@with_options(VideoRequest, into="request", args=("file",))
def camera(
    file: Path = typer.Argument(..., metavar="FILE", help="A video file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    request: Any = None,
) -> None:
    """Camera motion per shot: pan, tilt, zoom, roll, shake or static, with rates per second."""
    from animstudio.analysis.commands import find_camera

    with ui.progress_bar() as on_progress:
        moves = find_camera(request, on_progress).camera
    if as_json:
        ui.print_json([m.model_dump() for m in moves])
        return
    ui.table(None, ["shot", "motion", "pan/s", "tilt/s", "zoom/s", "roll deg/s", "shake"],
             [[m.shot, m.label, m.pan_per_s, m.tilt_per_s, m.zoom_per_s, m.roll_deg_per_s, m.shake] for m in moves])


@app.command("audio")
@with_options(AudioRequest, into="request", args=("file",))
def audio(
    file: Path = typer.Argument(..., metavar="FILE", help="A video or audio file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    request: Any = None,
) -> None:
    """Integrated loudness (EBU R128), speech segments (Silero VAD) and silences."""
    from animstudio.analysis.commands import measure_audio

    result = measure_audio(request)
    if as_json:
        ui.print_json(result.model_dump())
        return
    ui.say(f"loudness {result.integrated_lufs} LUFS (range {result.loudness_range_lu} LU, true peak "
           f"{result.true_peak_dbfs} dBFS); speech {result.speech_ratio:.0%}")
    ui.table(None, ["speech from", "to"], [[s.start_s, s.end_s] for s in result.speech])


@app.command("all")
@with_options(DetectRequest, into="request", args=("file",), short={"detector": "-d"})
def all_(
    file: Path = typer.Argument(..., metavar="FILE", help="A video file."),
    option: list[str] = typer.Option([], "--option", "-O", metavar="KEY=VALUE", help=OPTION_HELP),
    request: Any = None,
) -> None:
    """Everything (shots, camera, composition, coherence, audio) as one JSON document."""
    from animstudio.analysis.commands import analyze_video

    with ui.progress_bar() as on_progress:
        result = analyze_video(_detecting(request, option), on_progress)
    ui.print_json(result.model_dump(mode="json"))


@app.command("report")
@with_options(ReportRequest, into="request", args=("file",), short={"detector": "-d", "output": "-o"})
def report(
    file: Path = typer.Argument(..., metavar="FILE", help="A video file."),
    option: list[str] = typer.Option([], "--option", "-O", metavar="KEY=VALUE", help=OPTION_HELP),
    request: Any = None,
) -> None:
    """Analyse a video and write the report folder."""
    from animstudio.analysis.commands import make_report

    with ui.progress_bar() as on_progress:
        done = make_report(_detecting(request, option), on_progress)
    ui.say(f"{done.shots} shots, cuts at {done.cuts}; wrote " + ", ".join(done.files))


@app.command("batch")
def batch(
    files: list[str] = typer.Argument(..., metavar="VIDEO...", help="Videos, or folders of them."),
    output: Path = typer.Option(..., "--output", "-o", help="The folder for one NAME.json per video and batch.json."),
    detector: str = typer.Option(None, "--detector", "-d", help="The shot detector (default: animation)."),
    executor: str = typer.Option(None, "--executor", "-e", help="Where the analyses run: local or ray (default: the "
                                                                 "executor setting; ray.address names the cluster)."),
    as_json: bool = typer.Option(False, "--json", help="Print the batch as JSON."),
) -> None:
    """Analyse many videos (everything `analyze all` gives, one JSON per video), one task per video on
    the executor; run it again to finish a batch that was stopped."""
    from animstudio.analysis.batch import AnalysisBatchRequest, analyze_batch
    from animstudio.options import build

    given = {"files": files, "output": str(output), "executor": executor}
    request = build(AnalysisBatchRequest, {**given, **({"detector": detector} if detector else {})})
    with ui.progress_bar() as on_progress:
        done = analyze_batch(request, on_progress)
    if as_json:
        ui.print_json(done.model_dump(mode="json"))
        return
    ui.say(f"analysed {done.made} videos ({done.skipped} done before) into {done.folder} in {done.seconds:.1f} s")
    ui.table(None, ["video", "shots", "seconds"], [[Path(i.file).name, i.shots, f"{i.duration_s:.1f}"]
                                                  for i in done.items])
