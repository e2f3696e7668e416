"""``animstudio analyze``: shots, camera motion, composition, coherence, audio and the full report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from animstudio.cli import ui
from animstudio.errors import InvalidInputError
from animstudio.plugins import backends

app = typer.Typer(no_args_is_help=True)

DETECTOR_HELP = "Shot detector (see `animstudio analyze detectors`)."
OPTION_HELP = "A detector option as KEY=VALUE; repeat for more."


def _options(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"--option {pair!r} must look like KEY=VALUE, e.g. --option cut_blocks=0.6")
        out[key.strip().replace("-", "_")] = value.strip()
    return out


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
def scenes(
    file: Path = typer.Argument(..., metavar="FILE", help="A video file."),
    detector: str = typer.Option("animation", "--detector", "-d", help=DETECTOR_HELP),
    option: list[str] = typer.Option([], "--option", "-O", help=OPTION_HELP),
    fast: bool = typer.Option(False, "--fast", help="Decode without the deblocking filter: much faster; "
                                                    "fade and dissolve spans may move by a frame."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Find shots: hard cuts, flashes (not cuts), fades and dissolves with their frame spans."""
    from animstudio.analysis.scenes import detect_scenes, make_detector

    make_detector(detector, _options(option))  # bad names and options fail before decoding
    with ui.progress_bar() as on_progress:
        result = detect_scenes(file, detector=detector, options=_options(option), on_progress=on_progress,
                               fast_decode=fast)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    ui.say(f"{len(result.shots)} shots, cuts at {result.cuts}"
           + (f", flashes at {result.flashes}" if result.flashes else ""))
    ui.table(None, ["#", "frames", "seconds"], [[s.index, f"{s.start_frame}-{s.end_frame - 1}",
                                                f"{s.start_s:.3f}-{s.end_s:.3f}"] for s in result.shots])
    for t in result.transitions:
        ui.say(f"{t.type}{' (' + t.color + ')' if t.color else ''}: frames {t.start_frame}-{t.end_frame - 1}")


def _full(file: Path, detector: str, option: list[str]):  # type: ignore[no-untyped-def]
    from animstudio.analysis.analyze import analyze
    from animstudio.analysis.scenes import make_detector

    make_detector(detector, _options(option))
    with ui.progress_bar() as on_progress:
        return analyze(file, detector=detector, options=_options(option), on_progress=on_progress)


@app.command("camera")
def camera(
    file: Path = typer.Argument(..., metavar="FILE", help="A video file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Camera motion per shot: pan, tilt, zoom, roll, shake or static, with rates per second."""
    from animstudio.analysis.camera import camera_motion
    from animstudio.analysis.features import extract_features
    from animstudio.analysis.scenes import detect_scenes

    with ui.progress_bar() as on_progress:
        feats = extract_features(file, on_progress=on_progress)
    result = detect_scenes(features=feats)
    moves = camera_motion(feats, result.shots, result.transitions)
    if as_json:
        ui.print_json([m.model_dump() for m in moves])
        return
    ui.table(None, ["shot", "motion", "pan/s", "tilt/s", "zoom/s", "roll deg/s", "shake"],
             [[m.shot, m.label, m.pan_per_s, m.tilt_per_s, m.zoom_per_s, m.roll_deg_per_s, m.shake] for m in moves])


@app.command("audio")
def audio(
    file: Path = typer.Argument(..., metavar="FILE", help="A video or audio file."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Integrated loudness (EBU R128), speech segments (Silero VAD) and silences."""
    from animstudio.analysis.audio import analyze_audio
    from animstudio.media import probe
    from animstudio.media.probe import require_audio

    require_audio(probe(file, count_frames=False))
    result = analyze_audio(file)
    if as_json:
        ui.print_json(result.model_dump())
        return
    ui.say(f"loudness {result.integrated_lufs} LUFS (range {result.loudness_range_lu} LU, true peak "
           f"{result.true_peak_dbfs} dBFS); speech {result.speech_ratio:.0%}")
    ui.table(None, ["speech from", "to"], [[s.start_s, s.end_s] for s in result.speech])


@app.command("all")
def all_(
    file: Path = typer.Argument(..., metavar="FILE", help="A video file."),
    detector: str = typer.Option("animation", "--detector", "-d", help=DETECTOR_HELP),
    option: list[str] = typer.Option([], "--option", "-O", help=OPTION_HELP),
) -> None:
    """Everything (shots, camera, composition, coherence, audio) as one JSON document."""
    ui.print_json(_full(file, detector, option).model_dump(mode="json"))


@app.command("report")
def report(
    file: Path = typer.Argument(..., metavar="FILE", help="A video file."),
    out: Path = typer.Option(..., "--output", "-o", help="Folder for analysis.json, timeline.otio, "
                                                         "contact_sheet.png and report.html."),
    detector: str = typer.Option("animation", "--detector", "-d", help=DETECTOR_HELP),
    option: list[str] = typer.Option([], "--option", "-O", help=OPTION_HELP),
) -> None:
    """Analyse a video and write the report folder."""
    from animstudio.analysis.report import COMMAND, write_report
    from animstudio.files import check_output_folder
    from animstudio.media import probe, require_video

    require_video(probe(file, count_frames=False))   # a bad video is named before the output folder
    # (a file cut short is refused by the decoder, before anything is written)
    check_output_folder(out, COMMAND)
    result = _full(file, detector, option)
    paths = write_report(result, out)
    ui.say(f"{len(result.shots)} shots, cuts at {result.cuts}; wrote " + ", ".join(str(p) for p in paths.values()))
