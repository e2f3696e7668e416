"""The OpenAI-compatible gateway: one endpoint in front of the embedded engine and upstreams.

    app = create_app({"smollm2": EmbeddedEngine(model="smollm2-135m-instruct")})
    uvicorn.run(app, port=8000)        # then: openai.OpenAI(base_url="http://127.0.0.1:8000/v1")

Requests go to the engine their ``model`` names (an alias); replies, errors and server-sent
event streams are in OpenAI's format. A client that disconnects mid-stream stops the generation.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from animstudio.errors import StudioError
from animstudio.llm.base import Engine

MAX_BODY = 8 * 2**20   # bytes of one request


def error(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> JSONResponse:
    """An error in OpenAI's shape."""
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}}, status_code=status)


class _Pump:
    """Runs a blocking chunk iterator in its own thread and hands chunks to asyncio; ``cancel``
    closes the iterator in that thread (stopping the engine) as soon as the current chunk is out."""

    def __init__(self, chunks: Iterator[dict[str, Any]], loop: asyncio.AbstractEventLoop) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=64)
        self.cancelled = threading.Event()
        self.loop = loop
        self.thread = threading.Thread(target=self._run, args=(chunks,), name="gateway-stream", daemon=True)
        self.thread.start()

    def _put(self, item: Any) -> None:
        asyncio.run_coroutine_threadsafe(self.queue.put(item), self.loop).result()

    def _run(self, chunks: Iterator[dict[str, Any]]) -> None:
        try:
            for chunk in chunks:
                if self.cancelled.is_set():
                    break
                self._put(chunk)
        except BaseException as exc:  # noqa: BLE001 - reported to the client as an error event
            if not self.cancelled.is_set():
                self._put(exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
            if not self.cancelled.is_set():
                self._put(None)

    async def __aiter__(self) -> AsyncIterator[Any]:
        while (item := await self.queue.get()) is not None:
            yield item

    def cancel(self) -> None:
        self.cancelled.set()
        while not self.queue.empty():   # let a producer blocked on a full queue finish its put
            self.queue.get_nowait()


def _sse(data: Any) -> bytes:
    return f"data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def create_app(engines: dict[str, Engine], default: str | None = None) -> FastAPI:
    """A gateway app serving ``engines`` by alias; requests without a model go to ``default``."""
    app = FastAPI(title="animstudio LLM gateway", docs_url=None, redoc_url=None)
    started = time.time()
    default = default or next(iter(engines), None)

    def route(model: str | None) -> tuple[str, Engine] | JSONResponse:
        alias = model or default
        if alias not in engines:
            return error(404, f"unknown model {model!r}; this gateway serves: {', '.join(sorted(engines))}",
                         code="model_not_found")
        return alias, engines[alias]

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "models": sorted(engines), "uptime_s": round(time.time() - started, 1)}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": alias, "object": "model", "created": int(started),
                                            "owned_by": engines[alias].name} for alias in sorted(engines)]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await request.body()
        if len(body) > MAX_BODY:
            return error(413, f"request body over {MAX_BODY // 2**20} MiB; send less")
        try:
            payload = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return error(400, f"the body is not JSON ({exc.msg if hasattr(exc, 'msg') else exc}); send a JSON "
                              f"chat-completions request")
        if not isinstance(payload, dict):
            return error(400, "the body must be a JSON object with messages")
        found = route(payload.get("model"))
        if isinstance(found, JSONResponse):
            return found
        alias, engine = found
        payload.pop("model", None)   # the alias is ours: each engine sends its own model name on
        if not payload.get("stream"):
            try:
                response = await asyncio.to_thread(engine.chat, payload)
            except StudioError as exc:   # the request's fault: 400, as OpenAI answers; an upstream's: 502
                return error(400 if exc.http_status < 500 else 502, str(exc),
                             "invalid_request_error" if exc.http_status < 500 else "upstream_error")
            return JSONResponse({**response, "model": alias})
        pump = _Pump(engine.stream(payload), asyncio.get_running_loop())

        async def events() -> AsyncIterator[bytes]:
            try:
                async for item in pump:
                    if isinstance(item, BaseException):
                        status = getattr(item, "http_status", 500)
                        yield _sse({"error": {"message": str(item), "type": "upstream_error" if status >= 500
                                              else "invalid_request_error", "param": None, "code": None}})
                        break
                    yield _sse({**item, "model": alias})
                else:
                    yield b"data: [DONE]\n\n"
            finally:
                pump.cancel()   # the client went away (or the stream ended): stop the engine

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return app
