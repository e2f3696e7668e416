"""``animstudio parody`` / ``narrate`` and ``animstudio jobs``: creative jobs from the command line.

The flags of ``parody`` and ``narrate`` are the fields of their pipelines' ``Options``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from animstudio.cli import ui
from animstudio.options import with_options
from animstudio.pipelines.parody import Narrate, Parody

jobs_app = typer.Typer(no_args_is_help=True)
studio_app = typer.Typer(no_args_is_help=True)


def _follow(job_id: str) -> Any:
    """Run a job in this process, drawing its events (the same ``follow()`` the API streams) as a bar."""
    from animstudio.jobs import run_watched
    from animstudio.progress import Progress

    with ui.progress_bar() as on_progress:
        def draw(event: Any) -> None:
            if event.kind == "progress":
                on_progress(Progress(event.step, event.fraction or 0.0, 1.0, "", event.message))

        job, error = run_watched(job_id, draw)
    if error is not None:
        raise error
    return job


def _done(job: Any) -> None:
    out = job.params.get("output") or str(job.folder)
    if job.status != "done":
        from animstudio.errors import StudioError

        raise StudioError(f"job {job.id} {job.status}: {job.error or 'see animstudio jobs show ' + job.id}")
    failed = sum(1 for s in job.steps for d in s.outputs.get("decisions", []) if "failed the WER gate" in
                 d.get("decision", ""))
    if failed:
        ui.say(f"{failed} line(s) failed the hearing check: see report.html")
    typer.echo(f"Output: {out} (parody.mp4, parody.srt, parody.otio, report.html; job {job.id})")


@with_options(Parody.Options, into="params", args=("clip", "output"), short={"brief": "-b", "characters": "-c"},
              names={"characters": "--character"})
def parody(
    clip: Path = typer.Argument(..., metavar="CLIP", help="The clip to re-dub."),
    output: Path = typer.Option(..., "--output", "-o", help="A new folder for the results."),
    params: Any = None,
) -> None:
    """Re-dub a clip as a parody: plan, voices, beats, captions, render; plus SRT, OTIO and a report."""
    _submit_and_follow("parody", params)


@with_options(Narrate.Options, into="params", args=("clip", "output"))
def narrate(
    clip: Path = typer.Argument(..., metavar="CLIP", help="The clip to narrate."),
    output: Path = typer.Option(..., "--output", "-o", help="A new folder for the results."),
    params: Any = None,
) -> None:
    """A documentary-style voice-over of a clip (narrator only, no beats)."""
    _submit_and_follow("narrate", params)


def _submit_and_follow(kind: str, params: Any) -> None:
    from animstudio.jobs import submit

    job = submit(kind, params.model_dump())
    ui.say(f"job {job.id}")
    _done(_follow(job.id))


@jobs_app.command("list")
def jobs_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Recent jobs."""
    from animstudio.jobs import JobStore

    jobs = JobStore().list()
    if as_json:
        ui.print_json([j.as_dict() for j in jobs])
        return
    ui.table("jobs", ["id", "kind", "status", "steps done", "clip", "error"],
             [[j.id, j.kind, j.status, f"{sum(s.status == 'done' for s in j.steps)}/{len(j.steps)}",
               Path(j.params.get("clip", "")).name, j.error[:80]] for j in jobs])
    if any(j.status == "failed" for j in jobs):
        ui.say("failed jobs keep their finished steps: `animstudio jobs resume ID` goes on, "
               "`animstudio jobs remove --failed` forgets them")


@jobs_app.command("show")
def jobs_show(job_id: str = typer.Argument(..., metavar="ID")) -> None:
    """One job: its parameters, steps, outputs and last events (JSON)."""
    from animstudio.jobs import JobStore

    store = JobStore()
    ui.print_json(store.get(job_id).as_dict() | {"events": [e.as_dict() for e in store.events(job_id)[-20:]]})


@jobs_app.command("cancel")
def jobs_cancel(job_id: str = typer.Argument(..., metavar="ID")) -> None:
    """Stop a job at its next progress check (its finished steps are kept)."""
    from animstudio.jobs import JobStore

    store = JobStore()
    job = store.get(job_id)
    if job.status in ("done", "failed", "cancelled"):
        ui.say(f"job {job_id} is already {job.status}")
        return
    store.set_status(job_id, "cancelled", "cancelled by the user")
    ui.say(f"job {job_id} cancelled")


@jobs_app.command("remove")
def jobs_remove(
    job_ids: list[str] = typer.Argument(None, metavar="ID...", help="Jobs to forget."),
    failed: bool = typer.Option(False, "--failed", help="Every failed or cancelled job."),
) -> None:
    """Forget jobs and delete their working folders (a finished job's output folder is kept)."""
    from animstudio.errors import InvalidInputError
    from animstudio.jobs import JobStore

    store = JobStore()
    ids = list(job_ids or []) + ([j.id for j in store.list(limit=10_000) if j.status in ("failed", "cancelled")]
                                 if failed else [])
    if not ids and not failed:
        raise InvalidInputError("name the jobs to remove (see animstudio jobs list), or pass --failed")
    for job_id in ids:
        store.get(job_id)   # every name is checked before any job is removed
    for job_id in ids:
        store.remove(job_id)
    ui.say(f"removed {len(ids)} job(s)")


@jobs_app.command("resume")
def jobs_resume(job_id: str = typer.Argument(..., metavar="ID")) -> None:
    """Finish a job that stopped (killed, failed or cancelled) without redoing its finished steps."""
    _done(_follow(job_id))


@studio_app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8100, "--port", min=1, max=65535, help="Port to listen on."),
    api_key: list[str] = typer.Option(None, "--api-key", help="Require this key (repeatable); default: none."),
    max_upload_mb: float = typer.Option(512, "--max-upload-mb", min=1, help="Largest upload accepted."),
    media: list[Path] = typer.Option(None, "--media", metavar="DIR", help="A folder whose clips and timelines "
                                     "jobs may name by path (repeat; default: jobs.media_folders); other files "
                                     "must be uploaded."),
) -> None:
    """The studio's HTTP API: submit jobs, stream their events, fetch their artifacts (OpenAPI at /docs)."""
    try:
        import uvicorn
    except ImportError as exc:
        from animstudio.errors import MissingDependencyError

        raise MissingDependencyError.for_extra("uvicorn", "studio", "The studio server") from exc
    from animstudio.studio.api import create_app

    for folder in media or []:
        if not folder.is_dir():
            from animstudio.errors import InvalidInputError

            raise InvalidInputError(f"--media {folder} is not a folder; give a folder of clips")
    app_ = create_app(api_keys=list(api_key or []), max_upload_mb=max_upload_mb, media_folders=media or None)
    uvicorn.run(app_, host=host, port=port, log_level="warning")
