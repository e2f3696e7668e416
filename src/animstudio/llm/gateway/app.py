"""The OpenAI-compatible gateway: one endpoint in front of the embedded engine and upstreams.

    app = create_app({"smollm2": EmbeddedEngine(model="smollm2-135m-instruct")})
    uvicorn.run(app, port=8000)        # then: openai.OpenAI(base_url="http://127.0.0.1:8000/v1")

Requests go to the route their ``model`` names (an alias: engines tried in order behind circuit
breakers); replies, errors and server-sent event streams are in OpenAI's format. Deterministic
requests are answered from the response cache when they can be (streams replay as streams). API
keys, per-key rate limits, body and max_tokens limits and a request timeout guard the door;
``/metrics`` counts it all for Prometheus. A client that disconnects mid-stream stops the engine.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from animstudio.config import LLMGatewaySettings
from animstudio.errors import ServiceUnavailableError, StudioError
from animstudio.llm.base import Engine, chunks_of
from animstudio.llm.gateway.cache import cache_key as key_of
from animstudio.llm.gateway.guard import Guard
from animstudio.llm.gateway.metrics import Metrics
from animstudio.llm.gateway.routing import Route

MAX_BODY = 8 * 2**20   # bytes of one request


def error(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> JSONResponse:
    """An error in OpenAI's shape."""
    return JSONResponse({"error": {"message": message, "type": kind, "param": None, "code": code}}, status_code=status)


def error_body(exc: BaseException) -> tuple[int, dict[str, Any]]:
    """(status, OpenAI error body) for a failure: the request's fault is a 400, an upstream's a 502."""
    upstream = getattr(exc, "http_status", 500) >= 500
    return 502 if upstream else 400, {"error": {"message": str(exc), "param": None, "code": None,
                                                "type": "upstream_error" if upstream else "invalid_request_error"}}


def failure(exc: BaseException) -> JSONResponse:
    status, body = error_body(exc)
    return JSONResponse(body, status_code=status)


def unauthorized() -> JSONResponse:
    return error(401, "missing or wrong API key; send Authorization: Bearer KEY", code="invalid_api_key")


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
        except BaseException as exc:  # noqa: BLE001 - handed to the response as an error
            if not self.cancelled.is_set():
                self._put(exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
            if not self.cancelled.is_set():
                self._put(None)

    async def next(self) -> Any:
        return await self.queue.get()

    def cancel(self) -> None:
        self.cancelled.set()
        while not self.queue.empty():   # let a producer blocked on a full queue finish its put
            self.queue.get_nowait()


def _sse(data: Any) -> bytes:
    return f"data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def assemble(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """The chat completion a stream of chunks adds up to."""
    text = "".join((c.get("choices") or [{}])[0].get("delta", {}).get("content") or "" for c in chunks)
    last = chunks[-1] if chunks else {}
    finish = next((ch.get("finish_reason") for c in reversed(chunks) for ch in c.get("choices", [])
                   if ch.get("finish_reason")), "stop")
    return {"id": last.get("id", ""), "object": "chat.completion", "created": last.get("created", int(time.time())),
            "model": last.get("model", ""), "usage": next((c["usage"] for c in reversed(chunks) if c.get("usage")),
                                                          None),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}]}


def create_app(routes: dict[str, Route | Engine | list[Engine]], settings: LLMGatewaySettings | None = None,
               cache: Any = None, default: str | None = None, redis_url: str | None = None,
               embedder: str | None = None) -> FastAPI:
    """A gateway serving ``routes`` by alias; requests without a model go to ``default``; with
    ``redis_url`` every gateway process shares the rate limits. ``/v1/embeddings`` serves every
    registered embedder by name (without one: ``embedder``, default the setting ``knowledge.embedder``)."""
    table = {alias: r if isinstance(r, Route) else Route(alias, r if isinstance(r, list) else [r])
             for alias, r in routes.items()}
    settings = settings or LLMGatewaySettings()
    # engines block (HTTP to an upstream, llama.cpp): their own threads, enough for many waiting calls
    workers = ThreadPoolExecutor(max_workers=128, thread_name_prefix="gateway-engine")
    guard = Guard(settings.api_keys, settings.requests_per_minute, redis_url)
    metrics = Metrics()
    app = FastAPI(title="animstudio LLM gateway", docs_url=None, redoc_url=None)
    app.state.metrics, app.state.cache = metrics, cache
    started = time.time()
    default = default or next(iter(table), None)
    if embedder is None:
        from animstudio.config import load_settings

        embedder = load_settings().knowledge.embedder

    def cache_key(payload: dict[str, Any], alias: str) -> str | None:
        return None if cache is None else key_of({**payload, "model": alias})

    def cached(key: str | None) -> dict[str, Any] | None:
        if key is None:
            return None
        errors = cache.stats.get("errors", 0)
        hit = cache.get(key)
        if cache.stats.get("errors", 0) > errors:
            metrics.cache_errors.inc(cache.stats["errors"] - errors)
        metrics.cache.labels("hit" if hit else "miss").inc()
        return hit

    def store(key: str | None, value: dict[str, Any]) -> None:
        if key is not None:
            cache.put(key, value)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "models": sorted(table), "uptime_s": round(time.time() - started, 1)}

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4")

    @app.get("/v1/models")
    async def models(request: Request) -> Any:
        if guard.key_of(request.headers.get("authorization")) is None:
            return unauthorized()
        return {"object": "list", "data": [{"id": alias, "object": "model", "created": int(started),
                                            "owned_by": table[alias].engines[0].name} for alias in sorted(table)]}

    embedders: dict[str, Any] = {}   # by name, made on first use

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> Any:
        if guard.key_of(request.headers.get("authorization")) is None:
            return unauthorized()
        try:
            payload = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return error(400, f"the body is not JSON ({exc}); send {{\"input\": [...], \"model\": ...}}")
        if not isinstance(payload, dict):
            return error(400, "the body must be a JSON object: {\"input\": [...], \"model\": ...}")
        from animstudio.plugins import backends

        model = payload.get("model") or embedder
        known = backends("embedder")
        if model not in known:
            return error(404, f"unknown embedding model {model!r}; this gateway serves: "
                              f"{', '.join(sorted(known)) or 'none (install an embedder plugin)'}",
                         code="model_not_found")
        texts = payload.get("input")
        texts = [texts] if isinstance(texts, str) else texts
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return error(400, "embeddings need input: a string or a non-empty list of strings")
        try:
            if model not in embedders:
                embedders[model] = known[model]()
            vectors = await asyncio.to_thread(embedders[model].embed, texts)
            tokens = await asyncio.to_thread(embedders[model].count_tokens, texts)
        except StudioError as exc:
            return failure(exc)
        return {"object": "list", "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                "data": [{"object": "embedding", "index": i, "embedding": [float(x) for x in v]}
                         for i, v in enumerate(vectors)]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        t0 = time.perf_counter()
        metrics.in_flight.inc()
        try:
            answer, alias = await _chat(request)
        finally:
            metrics.in_flight.dec()
        status = getattr(answer, "status_code", 200)
        metrics.requests.labels(alias or "-", str(status)).inc()
        if not isinstance(answer, StreamingResponse):
            metrics.latency.labels(alias or "-", "false").observe(time.perf_counter() - t0)
        return answer

    async def _chat(request: Request) -> tuple[Any, str | None]:
        key = guard.key_of(request.headers.get("authorization"))
        if key is None:
            return unauthorized(), None
        if not guard.admit(key or (request.client.host if request.client else "?")):
            return error(429, f"over {settings.requests_per_minute} requests a minute; slow down",
                         "rate_limit_error", "rate_limit_exceeded"), None
        body = await request.body()
        if len(body) > MAX_BODY:
            return error(413, f"request body over {MAX_BODY // 2**20} MiB; send less"), None
        try:
            payload = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return error(400, f"the body is not JSON ({exc}); send a JSON chat-completions request"), None
        if not isinstance(payload, dict):
            return error(400, "the body must be a JSON object with messages"), None
        asked = payload.get("max_tokens") or payload.get("max_completion_tokens") or 0
        if isinstance(asked, int) and asked > settings.max_tokens:
            return error(400, f"max_tokens {asked} is over this gateway's limit of {settings.max_tokens}"), None
        alias = payload.pop("model", None) or default
        if alias not in table:
            return error(404, f"unknown model {alias!r}; this gateway serves: {', '.join(sorted(table))}",
                         code="model_not_found"), alias
        route = table[alias]
        ckey = cache_key(payload, alias)
        hit = cached(ckey)
        if not payload.get("stream"):
            if hit is not None:
                response = hit["response"] if hit["kind"] == "response" else assemble(hit["chunks"])
                return JSONResponse({**response, "model": alias}), alias
            return await _answer(route, payload, ckey), alias
        if hit is not None:
            chunks = hit["chunks"] if hit["kind"] == "stream" else list(chunks_of(hit["response"]))
            return _replay(chunks, alias), alias
        return await _stream(route, payload, ckey, time.perf_counter()), alias

    async def _answer(route: Route, payload: dict[str, Any], ckey: str | None) -> JSONResponse:
        tried = []
        for engine, breaker in route.candidates():
            try:
                call = asyncio.get_running_loop().run_in_executor(workers, engine.chat, payload)
                response = await asyncio.wait_for(call, settings.timeout_s)
            except TimeoutError:
                return error(504, f"no answer within {settings.timeout_s:g} s; ask for fewer tokens", "timeout")
            except ServiceUnavailableError as exc:
                breaker.failed()
                metrics.upstream_errors.labels(route.describe(engine)).inc()
                tried.append(f"{route.describe(engine)} ({exc})")
                continue
            except StudioError as exc:
                return failure(exc)
            breaker.succeeded()
            metrics.count_usage(route.alias, response.get("usage"))
            store(ckey, {"kind": "response", "response": response})
            return JSONResponse({**response, "model": route.alias})
        return error(502, f"every upstream of {route.alias!r} failed: {'; '.join(tried)}", "upstream_error")

    async def _stream(route: Route, payload: dict[str, Any], ckey: str | None, t0: float) -> Any:
        tried = []
        loop = asyncio.get_running_loop()
        for engine, breaker in route.candidates():
            pump = _Pump(engine.stream(payload), loop)
            first = await pump.next()
            if isinstance(first, ServiceUnavailableError):   # nothing sent yet: the next upstream may answer
                breaker.failed()
                metrics.upstream_errors.labels(route.describe(engine)).inc()
                tried.append(f"{route.describe(engine)} ({first})")
                continue
            if isinstance(first, StudioError):
                return failure(first)
            breaker.succeeded()
            return StreamingResponse(_events(pump, first, route.alias, ckey, t0), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        return error(502, f"every upstream of {route.alias!r} failed: {'; '.join(tried)}", "upstream_error")

    async def _events(pump: _Pump, first: Any, alias: str, ckey: str | None, t0: float) -> AsyncIterator[bytes]:
        seen: list[dict[str, Any]] = []
        item = first
        try:
            while item is not None:
                if isinstance(item, BaseException):
                    yield _sse(error_body(item)[1])
                    return
                seen.append(item)
                if item.get("usage"):
                    metrics.count_usage(alias, item["usage"])
                yield _sse({**item, "model": alias})
                item = await pump.next()
            yield b"data: [DONE]\n\n"
            store(ckey, {"kind": "stream", "chunks": seen})   # only whole streams are kept
            metrics.latency.labels(alias, "true").observe(time.perf_counter() - t0)
        finally:
            pump.cancel()   # the client went away (or the stream ended): stop the engine

    def _replay(chunks: list[dict[str, Any]], alias: str) -> StreamingResponse:
        async def events() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield _sse({**chunk, "model": alias})
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    return app
