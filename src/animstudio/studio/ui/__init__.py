"""The studio's web UI: a page of its own (no build step, nothing from a CDN) served at ``/`` by the
API app, calling the same routes every other client calls; it holds no logic of its own. Its forms
are built from the job kinds' and tools' schemas (``GET /catalog``), its progress bars and the
agent's steps come from the jobs' server-sent events.

With API keys set, the page asks for a key and keeps it in an HTTP-only, same-site cookie that the
API reads like the ``X-API-Key`` header; without one, every route but the page itself refuses.

    mount(app, api_keys, check_key)     # done by animstudio.studio.api.create_app
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

STATIC = Path(__file__).with_name("static")
SESSION_S = 7 * 24 * 3600


class SignIn(BaseModel):
    key: str = Field(min_length=1, max_length=4096, description="one of the server's API keys")


def mount(app: Any, api_keys: list[str], check_key: Callable[..., None]) -> None:
    """Serve the page at ``/``, its files at ``/ui/``, and the key's sign-in at ``/ui/session``."""
    from animstudio.studio.api import KEY_COOKIE

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/ui/session", include_in_schema=False)
    def session(request: Request) -> dict[str, Any]:
        try:
            check_key(request)
            signed_in = True
        except HTTPException:
            signed_in = False
        return {"key_required": bool(api_keys), "signed_in": signed_in}

    @app.post("/ui/session", include_in_schema=False)
    def sign_in(body: SignIn) -> JSONResponse:
        if not api_keys:
            return JSONResponse({"signed_in": True})
        if not any(secrets.compare_digest(body.key.encode(), key.encode()) for key in api_keys):
            raise HTTPException(401, "wrong API key: ask whoever runs this studio for one of its keys")
        reply = JSONResponse({"signed_in": True})
        reply.set_cookie(KEY_COOKIE, body.key, max_age=SESSION_S, httponly=True, samesite="strict")
        return reply

    @app.delete("/ui/session", include_in_schema=False, dependencies=[Depends(check_key)])
    def sign_out() -> JSONResponse:
        reply = JSONResponse({"signed_in": False})
        reply.delete_cookie(KEY_COOKIE)
        return reply

    app.mount("/ui", StaticFiles(directory=STATIC), name="ui")
