"""``animstudio edit``: render OpenTimelineIO timelines, export them for NLEs, make highlight reels."""

from __future__ import annotations

from pathlib import Path

import typer

from animstudio.cli import ui
from animstudio.errors import InvalidInputError, MissingDependencyError

app = typer.Typer(no_args_is_help=True)

PRESET_HELP = "Encoder speed/quality: draft (veryfast), medium (x264 medium, CRF 23), high (slow, CRF 18)."


def _editing() -> None:
    try:
        import opentimelineio  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError.for_extra("opentimelineio", "editing", "Editing") from exc


def _check_choice(value: str, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise InvalidInputError(f"unknown {what} {value!r}; use one of: {', '.join(choices)}")
    return value


def _render(timeline, output: Path, preset: str, captions: str, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    from animstudio.editing.render import render

    with ui.progress_bar() as on_progress:
        result = render(timeline, output, preset=preset, captions=captions, on_progress=on_progress)  # type: ignore[arg-type]
    if as_json:
        ui.print_json({"output": str(result.path), "duration_s": result.duration_s, "frames": result.frames,
                       "segments": result.segments, "sidecars": [str(p) for p in result.sidecars],
                       "loudness_before": result.loudness})
        return
    extra = f" and {', '.join(p.name for p in result.sidecars)}" if result.sidecars else ""
    ui.say(f"wrote {result.path} ({result.duration_s:.2f} s, {result.frames} frames){extra}")


@app.command("render")
def render_cmd(
    timeline: Path = typer.Argument(..., metavar="TIMELINE", help="A timeline: .otio, .edl or FCP 7 .xml."),
    output: Path = typer.Option(..., "--output", "-o", help="The video to write: .mp4 or .webm."),
    preset: str = typer.Option("medium", "--preset", "-p", help=PRESET_HELP),
    style: list[str] = typer.Option([], "--style", "-s", help="A style preset on top of the timeline's (repeat; "
                                                               "see `animstudio edit styles`)."),
    captions: str = typer.Option("both", "--captions", help="Captions: both (burn in + .srt), burn, sidecar, none."),
    subtitles: Path = typer.Option(None, "--subtitles", help="An .srt, .vtt or .ass file to burn in and write beside."),
    aspect: str = typer.Option(None, "--aspect", help="Reframe by cropping to WIDTH:HEIGHT in whole numbers, "
                                                      "e.g. 9:16, 1:1, 4:5, 16:9 or 4:3."),
    follow: Path = typer.Option(None, "--follow", help="An analysis.json: the crop keeps each shot's subject."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Render a timeline through one ffmpeg filter graph per segment (progress bar; Ctrl-C leaves no file)."""
    _editing()
    _check_choice(preset, ("draft", "medium", "high"), "preset")
    _check_choice(captions, ("both", "burn", "sidecar", "none"), "captions mode")
    from animstudio.editing.timeline import Edit

    edit = Edit.load(timeline)
    if style:
        edit.set_output(styles=[*edit.output.styles, *style])
    if follow is not None and aspect is None:
        raise InvalidInputError("--follow needs --aspect (e.g. --aspect 9:16)")
    if aspect:
        edit.reframe(aspect, follow=follow)
    if subtitles is not None:
        edit.add_subtitles(subtitles)
    _render(edit.timeline, output, preset, captions, as_json)


@app.command("export")
def export_cmd(
    timeline: Path = typer.Argument(..., metavar="TIMELINE", help="A timeline OTIO can read."),
    fmt: str = typer.Option(None, "--format", "-f", help="otio, edl (CMX 3600) or fcp7xml; default: from -o."),
    output: Path = typer.Option(..., "--output", "-o", help="The file to write."),
) -> None:
    """Write a timeline for Resolve, Premiere, Kdenlive: OTIO, CMX 3600 EDL or Final Cut Pro 7 XML."""
    _editing()
    from animstudio.editing.export import export_timeline
    from animstudio.editing.timeline import Edit

    path = export_timeline(Edit.load(timeline).timeline, output, fmt)
    ui.say(f"wrote {path}")


@app.command("check")
def check_cmd(
    timeline: Path = typer.Argument(..., metavar="TIMELINE", help="A timeline OTIO can read."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check a timeline (files, ranges, settings) without rendering, and summarise it."""
    _editing()
    from animstudio.editing.render_plan import make_plan
    from animstudio.editing.timeline import Edit

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
    _editing()
    from animstudio.editing.style_presets import STYLES

    if as_json:
        ui.print_json(STYLES)
        return
    ui.table("style presets", ["name", "look"], [[k, v] for k, v in sorted(STYLES.items())])


@app.command("highlights")
def highlights_cmd(
    file: Path = typer.Argument(..., metavar="FILE", help="A video with sound."),
    duration: float = typer.Option(15.0, "--duration", "-d", help="Length of the reel, seconds."),
    output: Path = typer.Option(..., "--output", "-o", help="The reel: .mp4 or .webm (its .otio is written beside)."),
    music: Path = typer.Option(None, "--music", "-m", help="A music bed, looped and ducked under the clip's sound."),
    transition: str = typer.Option("fade", "--transition", "-t", help="fade, dip_black, wipeleft, ... or cut."),
    preset: str = typer.Option("medium", "--preset", "-p", help=PRESET_HELP),
    style: list[str] = typer.Option([], "--style", "-s", help="Style presets (repeat)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Build a highlight reel: the liveliest and loudest moments, in order, with transitions and music."""
    _editing()
    _check_choice(preset, ("draft", "medium", "high"), "preset")
    from animstudio.editing.export import export_timeline
    from animstudio.editing.highlights import build_highlights
    from animstudio.editing.render import _encoder
    from animstudio.editing.style_presets import normalise_styles as check_styles
    from animstudio.editing.transitions import check_transition

    if transition != "cut":
        check_transition(transition)
    _encoder(output.suffix.lower(), "draft", 24.0)  # a wrong output type fails before the analysis
    check_styles(style)
    if music is not None:
        from animstudio.media import probe
        from animstudio.media.probe import require_audio

        require_audio(probe(music, count_frames=False))
    with ui.progress_bar() as on_progress:
        edit = build_highlights(file, duration_s=duration, music=music, transition=transition,
                                on_progress=on_progress)
    if style:
        edit.set_output(styles=style)
    _render(edit.timeline, output, preset, "both", as_json)
    export_timeline(edit.timeline, output.with_suffix(".otio"), "otio")
