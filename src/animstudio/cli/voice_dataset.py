"""``animstudio voice dataset``: per-speaker training clips, a GPT-SoVITS list and a report from film audio."""

from __future__ import annotations

from pathlib import Path

import typer

from animstudio.cli import ui
from animstudio.voice.dataset.options import DatasetOptions

_HELP = {k: f.description or "" for k, f in DatasetOptions.model_fields.items()}
_DEFAULT = {k: f.default for k, f in DatasetOptions.model_fields.items()}


def _names(pairs: list[str]) -> dict[str, Path]:
    from animstudio.errors import InvalidInputError

    out: dict[str, Path] = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        name = name.strip()
        if not sep or not name or not path.strip():
            raise InvalidInputError(f"--name {pair!r} must look like SPEAKER=RECORDING, e.g. --name Ada=ada_line.wav")
        if name in out:
            raise InvalidInputError(f"--name {name} is given twice; give each speaker one reference recording")
        out[name] = Path(path.strip())
    return out


def dataset(
    input: Path = typer.Argument(..., metavar="VIDEO_OR_AUDIO", help="A film, episode or recording with dialogue."),
    output: Path = typer.Option(..., "--output", "-o", help="The dataset folder to create (new or empty)."),
    name: list[str] = typer.Option([], "--name", help="SPEAKER=RECORDING: name the speaker whose voice is most "
                                                       "like the recording's; repeat for more."),
    language: str = typer.Option(None, "--language", "-l", help=_HELP["language"]),
    min_seconds: float = typer.Option(_DEFAULT["min_seconds"], "--min-seconds", help=_HELP["min_seconds"]),
    max_seconds: float = typer.Option(_DEFAULT["max_seconds"], "--max-seconds", help=_HELP["max_seconds"]),
    min_snr_db: float = typer.Option(_DEFAULT["min_snr_db"], "--min-snr-db", help=_HELP["min_snr_db"]),
    same_speaker: float = typer.Option(_DEFAULT["same_speaker"], "--same-speaker", help=_HELP["same_speaker"]),
    sample_rate: int = typer.Option(None, "--sample-rate", help=_HELP["sample_rate"]),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Build a voice dataset: speech found, speakers told apart, clips checked and transcribed."""
    from animstudio.voice.dataset.build import build_dataset
    from animstudio.voice.dataset.options import parse_options

    options = parse_options(language=language, min_seconds=min_seconds, max_seconds=max_seconds,
                            min_snr_db=min_snr_db, same_speaker=same_speaker, sample_rate=sample_rate,
                            names=_names(name))
    with ui.progress_bar() as on_progress:
        report = build_dataset(input, output, options, on_progress=on_progress)
    if as_json:
        ui.print_json(report.to_json())
        return
    from animstudio.voice.dataset.report import count

    seconds = sum(s.seconds for s in report.speakers)
    ui.say(f"wrote {output}: {count(len(report.clips), 'clip')} ({seconds:.1f} s) from "
           f"{count(len(report.speakers), 'speaker')}, {count(len(report.rejected), 'stretch')} rejected "
           f"(see report.md)")
    ui.table(None, ["speaker", "clips", "seconds", "rejected", "named from"],
             [[s.name, s.clips, f"{s.seconds:.1f}", s.rejected, s.reference or ""] for s in report.speakers])
    for u in report.unmatched_names:
        ui.say(f"warning: {u.reference} ({u.name}) matched no speaker: at most {u.similarity:.2f} alike "
               f"(to {u.closest or 'none'})")
