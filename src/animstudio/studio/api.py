"""The studio's HTTP API (FastAPI): submit creative jobs, follow their events, fetch what they made.

    POST   /uploads                      a clip (multipart), up to the size limit -> {"clip": "upload:ID"}
    POST   /jobs                         {"kind": "parody", "params": {"clip": ..., "brief": ...}} -> the job
                                         (kinds: parody, narrate, analyze, highlights, render)
    GET    /jobs                         recent jobs (those started from the CLI too), newest first
    GET    /jobs/{id}                    the job, its steps and outputs
    POST   /jobs/{id}/resume             go on with a failed or cancelled job (finished steps are kept)
    GET    /jobs/{id}/events             server-sent events until the job ends
    GET    /jobs/{id}/artifacts          the files of the job's folder
    GET    /jobs/{id}/artifacts/{name}   one of them (never outside it; ?as=vtt gives an .srt as WebVTT)
    GET    /catalog                      job kinds and tools with their parameter schemas, the upload limit
    GET    /media                        the clips and timelines of the served folders (to name by path)
    GET    /voices                       engines and their voices, the characters, the emotions
    GET    /kb/collections               the knowledge base's collections: records, sources, kind
    GET    /kb/collections/{name}        the sources indexed into one, with their chunk counts
    GET    /metrics                      Prometheus: jobs by kind and status, the model broker's figures
    GET    /health                       {"status": "ok"}, the one route without the key
    DELETE /jobs/{id}                    cancel
    POST   /agent/runs                   {"request": "Cut a 12 s reel of upload:ID", "files": [...], "yes": false}
                                         -> an agent job; its events (GET /jobs/{id}/events) are typed steps:
                                         plan, action, observation, score, decision, guard, replan
    POST   /agent/runs/{id}/approval     {"approve": true} -> a waiting run goes on (or stops)
    POST   /agent/plan                   {"request": ..., "files": [...]} -> the plan, nothing run

    uvicorn.run(create_app(api_keys=["secret"]), port=8100)   # or: animstudio studio serve

The web UI (:mod:`animstudio.studio.ui`) is served at ``/`` by the same app and calls these routes.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from animstudio.errors import ForbiddenError, InvalidInputError, StudioError
from animstudio.jobs import ENDED, JobStore, follow
from animstudio.plugins import get_backend
from animstudio.studio.catalog import MEDIA

UPLOAD_CHUNK = 1 << 20
KEY_COOKIE = "animstudio_key"   # the web UI's login keeps the key here
NO_URLS = {"url"}                 # tool arguments a caller may not set (the server's configuration does)


class JobRequest(BaseModel):
    kind: str = Field(description="parody, narrate, analyze, highlights or render (clip: the timeline)")
    params: dict[str, Any] = Field(default_factory=dict, description="clip (a path or upload:ID), brief, ...")


class AgentRunRequest(BaseModel):
    request: str = Field(min_length=1, max_length=4000, description="what to make, in the user's words")
    files: list[str] = Field(default_factory=list, max_length=20, description="paths or upload:ID the request is "
                                                                             "about")
    yes: bool = Field(False, description="run expensive steps without stopping for approval")


class Approval(BaseModel):
    approve: bool = Field(description="go on with the step the run waits for (false: stop the run)")


def create_app(store: JobStore | None = None, api_keys: list[str] | None = None, max_upload_mb: float = 512,
               max_concurrent: int | None = None, media_folders: list[Path] | None = None) -> Any:
    """The API app. Clips and timelines are read only from its uploads and from ``media_folders``
    (default: the ``jobs.media_folders`` setting); a timeline's media must lie there too."""
    from animstudio import jobs
    from animstudio.config import load_settings

    settings = load_settings()
    if max_upload_mb <= 0:
        raise InvalidInputError(f"the upload limit must be above 0 MB, not {max_upload_mb:g}")
    store = store or JobStore()
    uploads = store.root.parent / "uploads"
    served = [uploads.resolve()] + [Path(f).expanduser().resolve() for f in
                                    (settings.jobs.media_folders if media_folders is None else media_folders)]
    pool = ThreadPoolExecutor(max_workers=max_concurrent or settings.jobs.max_concurrent,
                              thread_name_prefix="studio-job")
    cancels: dict[str, threading.Event] = {}
    app = FastAPI(title="animstudio", version="1", description="Creative jobs: parody re-dubs and narrations.")

    def check_key(request: Request) -> None:
        if not api_keys:
            return
        given = (request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
                 or request.cookies.get(KEY_COOKIE, ""))
        if not any(secrets.compare_digest(given.encode(), key.encode()) for key in api_keys):
            raise HTTPException(401, "missing or wrong API key (X-API-Key or Authorization: Bearer)")

    @app.exception_handler(StudioError)
    async def studio_error(_: Request, exc: StudioError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=getattr(exc, "http_status", 400))

    @app.post("/uploads", dependencies=[Depends(check_key)])
    async def upload(file: UploadFile) -> dict[str, Any]:
        name = Path(file.filename or "clip").name
        if Path(name).suffix.lower() not in MEDIA:
            raise HTTPException(415, f"{name} is not a kind of file the studio works on; upload one of: "
                                     f"{', '.join(sorted(MEDIA))}")
        uploads.mkdir(parents=True, exist_ok=True)
        upload_id = secrets.token_hex(8)
        target = uploads / f"{upload_id}-{name}"
        part = target.with_name(target.name + ".part")
        size, limit = 0, int(max_upload_mb * (1 << 20))
        with part.open("wb") as out:
            while chunk := await file.read(UPLOAD_CHUNK):
                size += len(chunk)
                if size > limit:
                    out.close()
                    part.unlink(missing_ok=True)
                    raise HTTPException(413, f"the upload is over the limit of {max_upload_mb:g} MB")
                out.write(chunk)
        part.rename(target)
        return {"clip": f"upload:{target.name}", "bytes": size}

    def readable(path: Path, what: str) -> Path:
        path = path.expanduser().resolve()
        if not any(path.is_relative_to(folder) for folder in served):
            raise ForbiddenError(f"{what} {path} is outside the folders this server reads; upload it "
                                    f"(POST /uploads) or serve its folder (studio serve --media DIR)")
        return path

    def given(name: str, what: str) -> Path:
        """A file a request names: an upload (upload:ID) or a path in a served folder."""
        if not name.startswith("upload:"):
            return readable(Path(name), what)
        path = (uploads / name.removeprefix("upload:")).resolve()
        if path.parent != uploads.resolve() or not path.is_file():
            raise InvalidInputError(f"no upload {name!r}; POST the file to /uploads first")
        return path

    def tool_call(params: dict[str, Any]) -> dict[str, Any]:
        """A tool's uploads (upload:ID) named by their paths; every file it names must lie in a served
        folder or the job's own (where relative paths, its outputs among them, land)."""
        from animstudio.confinement import path_args
        from animstudio.tools import get_tool

        args = params.get("args") or {}
        if not isinstance(args, dict):
            raise InvalidInputError("params.args must be a JSON object of the tool's arguments")
        if refused := sorted(NO_URLS & set(args)):
            raise InvalidInputError(f"{', '.join(refused)} may not be set over the API; the server's configuration "
                                    "names the servers it talks to")
        files = path_args(get_tool(str(params.get("tool", ""))).schema())

        def read(key: str, value: Any) -> Any:
            if isinstance(value, list):
                return [read(key, v) for v in value]
            if key not in files or not isinstance(value, str) or not value.strip():
                return value
            if value.startswith("upload:") or Path(value).expanduser().is_absolute():
                return str(given(value, key))
            inside = Path("/job")
            if not (inside / value).resolve().is_relative_to(inside):
                raise ForbiddenError(f"{key} {value} leaves the job's folder; name a file inside it, an upload "
                                     "or a file of a served folder")
            return value

        return {"tool": params.get("tool"), "args": {k: read(k, v) for k, v in args.items()},
                "confined_to": [str(f) for f in served]}

    def resolve(kind: str, params: dict[str, Any]) -> dict[str, Any]:
        if kind == "tool":
            return tool_call(params)
        if "clip" not in get_backend("pipeline", kind).Options.model_fields:   # image-batch reads no clip
            params = {k: v for k, v in params.items() if k != "output"}
            if params.get("references"):      # reference pictures: uploads or files of served folders
                params["references"] = [str(given(str(r), "reference picture")) for r in params["references"]]
            checkpoint = params.get("checkpoint")
            if isinstance(checkpoint, str) and not re.fullmatch(r"\w[\w.-]*", checkpoint):   # a path, not a name
                params["checkpoint"] = str(readable(Path(checkpoint), "checkpoint"))
            return params
        path = given(str(params.get("clip", "")), "clip")
        if kind == "render":   # a timeline names its media: those must be readable here too
            from animstudio.editing import Edit, media_path

            for item in Edit.load(path).timeline.find_clips():
                if (source := media_path(item)) is not None:
                    readable(source, f"media of {item.name or 'a clip'}")
        params = {**params, "clip": str(path)}
        return {k: v for k, v in params.items() if k != "output"}   # results stay in the job folder

    @app.post("/jobs", status_code=201, dependencies=[Depends(check_key)])
    def submit(body: JobRequest) -> dict[str, Any]:
        if body.kind == "agent":
            raise InvalidInputError("agent runs start at POST /agent/runs")
        job = jobs.submit(body.kind, resolve(body.kind, body.params), store)
        start(job.id)
        return job.as_dict()

    @app.get("/health")      # no key: what a load balancer or a container's healthcheck asks; it tells nothing
    def health() -> dict[str, Any]:
        return {"status": "ok"}

    @app.get("/metrics", dependencies=[Depends(check_key)])
    def metrics() -> Response:
        from animstudio.studio.metrics import exposition

        return Response(exposition(store), media_type="text/plain; version=0.0.4")

    @app.get("/jobs", dependencies=[Depends(check_key)])
    def recent(limit: int = 50) -> list[dict[str, Any]]:
        return [job.as_dict() for job in store.list(max(1, min(limit, 500)))]

    @app.get("/jobs/{job_id}", dependencies=[Depends(check_key)])
    def get(job_id: str) -> dict[str, Any]:
        return store.get(job_id).as_dict()

    @app.post("/jobs/{job_id}/resume", dependencies=[Depends(check_key)])
    def resume(job_id: str) -> dict[str, Any]:
        job = store.get(job_id)
        if job.kind == "agent" and job.status == "waiting":
            raise HTTPException(409, f"agent run {job_id} waits for approval: POST /agent/runs/{job_id}/approval")
        if job.status not in ("failed", "cancelled"):
            raise HTTPException(409, f"job {job_id} is {job.status}; only failed or cancelled jobs are resumed")
        start(job_id)
        return store.get(job_id).as_dict()

    @app.get("/catalog", dependencies=[Depends(check_key)])
    def catalog() -> dict[str, Any]:
        from animstudio.studio.catalog import describe

        return {**describe(), "max_upload_mb": max_upload_mb}

    @app.get("/voices", dependencies=[Depends(check_key)])
    def voices() -> dict[str, Any]:
        from animstudio.voice.characters import registry

        return registry()

    @app.get("/kb/collections", dependencies=[Depends(check_key)])
    def kb_collections() -> dict[str, Any]:
        from animstudio.knowledge.commands import knowledge_base

        return knowledge_base().store.describe()["collections"]

    @app.get("/kb/collections/{name}", dependencies=[Depends(check_key)])
    def kb_sources(name: str) -> dict[str, Any]:
        from animstudio.knowledge.commands import knowledge_base

        kb = knowledge_base()
        if name not in kb.store.describe()["collections"]:
            raise HTTPException(404, f"no collection {name!r}; GET /kb/collections lists them")
        return kb.sources(name)

    @app.get("/media", dependencies=[Depends(check_key)])
    def media() -> list[dict[str, Any]]:
        from animstudio.studio.catalog import media_files

        return media_files(served[1:])

    @app.delete("/jobs/{job_id}", dependencies=[Depends(check_key)])
    def cancel(job_id: str) -> dict[str, Any]:
        job = store.get(job_id)
        if job.status not in ENDED:
            store.set_status(job_id, "cancelled", "cancelled over the API")
            if job_id in cancels:
                cancels[job_id].set()
        return store.get(job_id).as_dict()

    @app.get("/jobs/{job_id}/events", dependencies=[Depends(check_key)])
    async def events(job_id: str) -> StreamingResponse:
        store.get(job_id)   # 404-like error for an unknown job before the stream starts

        def stream() -> Any:   # run in a worker thread by the response
            for event in follow(store, job_id):
                yield f"id: {event.seq}\nevent: {event.kind}\ndata: {json.dumps(event.as_dict())}\n\n"
            yield f"event: end\ndata: {json.dumps(store.get(job_id).as_dict())}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    def start(job_id: str) -> None:
        cancels[job_id] = threading.Event()
        pool.submit(_run_quietly, jobs.run, job_id, store, cancels[job_id])

    @app.post("/agent/runs", status_code=201, dependencies=[Depends(check_key)])
    def agent_run(body: AgentRunRequest) -> dict[str, Any]:
        files = [str(given(name, "file")) for name in body.files]   # uploads and served folders only
        job = jobs.submit("agent", {"request": body.request, "files": files, "yes": body.yes,
                                    "confined_to": [str(f) for f in served]}, store)
        start(job.id)
        return job.as_dict()

    @app.post("/agent/plan", dependencies=[Depends(check_key)])
    def agent_plan(body: AgentRunRequest) -> dict[str, Any]:
        from animstudio.agent.plan import make_plan

        files = [str(given(name, "file")) for name in body.files]
        return make_plan(body.request, files).shown()

    @app.post("/agent/runs/{job_id}/approval", dependencies=[Depends(check_key)])
    def approval(job_id: str, body: Approval) -> dict[str, Any]:
        from animstudio.agent.job import answer

        job = store.get(job_id)
        if job.kind != "agent" or job.status != "waiting":
            raise HTTPException(409, f"job {job_id} is a {job.kind} job that is {job.status}, not an agent run "
                                     "waiting for approval")
        answer(job.folder, body.approve)
        start(job_id)
        return store.get(job_id).as_dict()

    @app.get("/jobs/{job_id}/artifacts", dependencies=[Depends(check_key)])
    def artifacts(job_id: str) -> list[dict[str, Any]]:
        from animstudio.studio.catalog import folder_files

        return folder_files(store.get(job_id).folder)

    @app.get("/jobs/{job_id}/artifacts/{name:path}", dependencies=[Depends(check_key)], response_model=None)
    def artifact(job_id: str, name: str, as_: str | None = Query(None, alias="as")) -> FileResponse | Response:
        folder = store.get(job_id).folder.resolve()
        path = (folder / name).resolve()
        if not path.is_relative_to(folder) or name.startswith("/"):
            raise HTTPException(400, "artifact names stay inside the job's folder")
        if not path.is_file():
            raise HTTPException(404, f"job {job_id} has no artifact {name!r}")
        if as_ is None:
            return FileResponse(path)
        if as_ != "vtt" or path.suffix.lower() != ".srt":
            raise HTTPException(400, "as=vtt is the one conversion, and only of .srt subtitles")
        from animstudio.studio.catalog import srt_to_vtt

        return Response(srt_to_vtt(path.read_text(encoding="utf-8")), media_type="text/vtt")

    from animstudio.studio.ui import mount

    mount(app, api_keys or [], check_key)
    return app


def _run_quietly(run: Any, job_id: str, store: JobStore, cancel: threading.Event) -> None:
    """Run a job in the pool: its failure is recorded on the job, not raised into the pool."""
    try:
        run(job_id, store, cancel)
    except Exception:  # noqa: BLE001 - the job's status and error already say what happened
        pass
