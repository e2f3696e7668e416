"""A tiny OpenAI-compatible server for tests and benchmarks: echoes the last user message (or lets
an engine answer), fails on request.

Plain ``asyncio`` streams and HTTP/1.1 with keep-alive, so it starts in a blink and needs nothing
beyond the standard library. As a process:

    python -m animstudio.testing.responder --port 8123 [--fail-first K] [--status S] [--retry-after SECONDS]
                                                       [--cut-stream] [--sleep-mode] [--hold-mb MB]

or in this process, on a thread, where any :class:`~animstudio.llm.base.Engine` may give the answers
(point ``ANIMSTUDIO_LLM__BASE_URL`` at it and the configured client talks to that engine):

    with serve_in_thread(fail_first=1) as base_url:   # "http://127.0.0.1:PORT/v1"
        ...
    with serve_in_thread(engine=ScriptedEngine(["{}"])) as base_url: ...

Routes: ``POST /v1/chat/completions`` (``"stream": true`` gives three ``chat.completion.chunk``
events, then ``data: [DONE]``), ``GET /v1/models``, ``GET /health``, ``GET /stats`` (how many
chat requests came, failed ones included, and the sleep calls). With ``--sleep-mode`` it also
answers vLLM's sleep-mode routes: ``POST /sleep?level=N``, ``POST /wake_up``, ``GET /is_sleeping``
(chats get 503 while it sleeps). ``--hold-mb`` makes it hold that much memory, as a model would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from animstudio.llm.base import Engine

MODELS = ["responder-echo"]
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 422: "Unprocessable Entity", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _error(message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class Responder:
    """The server's behaviour and counters; ``serve`` puts it on a port."""

    def __init__(self, fail_first: int = 0, status: int | None = None, retry_after: float | None = None,
                 cut_stream: bool = False, engine: Engine | None = None, sleep_mode: bool = False) -> None:
        self.engine = engine      # answers the chats when given; else the last user message is echoed
        self.sleep_mode = sleep_mode
        self.sleeping = False
        self.sleep_calls: list[str] = []   # "/sleep?level=1", "/wake_up", in order
        self.fail_first = fail_first
        self.status = status
        self.retry_after = retry_after
        self.cut_stream = cut_stream
        self.chat_requests = 0
        self.last_request: Any = None   # the last chat request as received (GET /last)

    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> asyncio.Server:
        return await asyncio.start_server(self._connection, host, port)

    # -- HTTP -------------------------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line.strip():
                    break
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    key, _, value = h.decode("latin-1").partition(":")
                    headers[key.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                if self.sleep_mode and target.split("?", 1)[0] in ("/sleep", "/wake_up", "/is_sleeping"):
                    keep = await self._sleep_route(method, target, writer)
                else:
                    keep = await self._route(method, target.split("?", 1)[0], body, writer)
                if not keep or headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()
                await writer.wait_closed()

    async def _send(self, writer: asyncio.StreamWriter, status: int, body: Any,
                    extra: dict[str, str] | None = None) -> bool:
        data = json.dumps(body).encode()
        head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}", "Content-Type: application/json",
                f"Content-Length: {len(data)}", *(f"{k}: {v}" for k, v in (extra or {}).items())]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        await writer.drain()
        return True

    async def _route(self, method: str, path: str, body: bytes, writer: asyncio.StreamWriter) -> bool:
        if path == "/health" and method == "GET":
            return await self._send(writer, 200, {"status": "ok"})
        if path == "/stats" and method == "GET":
            return await self._send(writer, 200, {"chat_requests": self.chat_requests, "sleep_calls": self.sleep_calls})
        if path == "/last" and method == "GET":
            return await self._send(writer, 200, {"request": self.last_request})
        if path == "/v1/models" and method == "GET":
            models = self.engine.models() if self.engine is not None else MODELS
            return await self._send(writer, 200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "responder"} for m in models]})
        if path == "/v1/chat/completions" and method == "POST":
            return await self._chat(body, writer)
        if path in ("/health", "/stats", "/v1/models", "/v1/chat/completions"):
            return await self._send(writer, 405, _error(f"{method} is not allowed on {path}"))
        return await self._send(writer, 404, _error(f"no route {path}"))

    async def _sleep_route(self, method: str, target: str, writer: asyncio.StreamWriter) -> bool:
        path = target.split("?", 1)[0]
        if path == "/is_sleeping" and method == "GET":
            return await self._send(writer, 200, {"is_sleeping": self.sleeping})
        if method != "POST":
            return await self._send(writer, 405, _error(f"{method} is not allowed on {path}"))
        self.sleep_calls.append(target)
        self.sleeping = path == "/sleep"
        return await self._send(writer, 200, {})

    # -- chat -------------------------------------------------------------------------------------

    async def _chat(self, raw: bytes, writer: asyncio.StreamWriter) -> bool:
        self.chat_requests += 1
        if self.sleeping:
            return await self._send(writer, 503, _error("responder: asleep; POST /wake_up first", "server_error"))
        if self.status is not None:
            kind = "invalid_request_error" if self.status < 500 else "server_error"
            return await self._send(writer, self.status, _error(f"responder: forced status {self.status}", kind),
                                    self._retry_header())
        if self.chat_requests <= self.fail_first:
            return await self._send(writer, 503, _error("responder: warming up, try again", "server_error"),
                                    self._retry_header())
        try:
            request = json.loads(raw or b"{}")
            self.last_request = request
            messages = request["messages"]
            assert isinstance(messages, list) and messages
        except (ValueError, KeyError, TypeError, AssertionError):
            return await self._send(writer, 400, _error("'messages' is required: a non-empty list"))
        if self.engine is not None:
            return await self._engine_answer(self.engine, request, writer)
        text = next((_text(m.get("content")) for m in reversed(messages)
                     if isinstance(m, dict) and m.get("role") == "user"), "")
        model = request.get("model") or MODELS[0]
        ident, created = f"chatcmpl-{uuid.uuid4().hex[:24]}", int(time.time())
        usage = {"prompt_tokens": sum(len(_text(m.get("content")).split()) for m in messages if isinstance(m, dict)),
                 "completion_tokens": len(text.split())}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if not request.get("stream"):
            return await self._send(writer, 200, {
                "id": ident, "object": "chat.completion", "created": created, "model": model,
                "system_fingerprint": None,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                             "logprobs": None, "finish_reason": "stop"}],
                "usage": usage})
        base = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model,
                "system_fingerprint": None}
        deltas = [({"role": "assistant", "content": ""}, None), ({"content": text}, None), ({}, "stop")]
        events = [{**base, "choices": [{"index": 0, "delta": d, "logprobs": None, "finish_reason": f}]}
                  for d, f in deltas]
        if (request.get("stream_options") or {}).get("include_usage"):
            events = [{**e, "usage": None} for e in events] + [{**base, "choices": [], "usage": usage}]
        return await self._stream(writer, events)

    async def _engine_answer(self, engine: Engine, request: dict[str, Any], writer: asyncio.StreamWriter) -> bool:
        """The engine's answer, whole or as a stream; its StudioError is an OpenAI-shaped error body."""
        from animstudio.errors import StudioError

        try:
            if not request.get("stream"):
                return await self._send(writer, 200, await asyncio.to_thread(engine.chat, request))
            events = await asyncio.to_thread(lambda: list(engine.stream(request)))
        except StudioError as exc:
            status = 400 if exc.http_status == 422 else exc.http_status
            return await self._send(writer, status, _error(str(exc), "server_error" if status >= 500 else
                                                           "invalid_request_error"))
        return await self._stream(writer, events)

    async def _stream(self, writer: asyncio.StreamWriter, events: list[dict[str, Any]]) -> bool:
        head = ("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                "Transfer-Encoding: chunked\r\n\r\n")
        writer.write(head.encode())
        for i, event in enumerate(events):
            self._piece(writer, f"data: {json.dumps(event)}\n\n")
            await writer.drain()
            if self.cut_stream and i == 0:
                writer.transport.abort()          # the connection drops mid-answer
                return False
        self._piece(writer, "data: [DONE]\n\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    @staticmethod
    def _piece(writer: asyncio.StreamWriter, text: str) -> None:
        data = text.encode()
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _retry_header(self) -> dict[str, str]:
        return {"Retry-After": f"{self.retry_after:g}"} if self.retry_after is not None else {}


@contextlib.contextmanager
def serve_in_thread(host: str = "127.0.0.1", **behaviour: Any) -> Iterator[str]:
    """Run a :class:`Responder` on a free port of a background thread; yields its ``/v1`` base URL."""
    responder = Responder(**behaviour)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="responder", daemon=True)
    thread.start()      # the loop runs on its thread from the start: the caller's may already run one
    server = asyncio.run_coroutine_threadsafe(responder.serve(host, 0), loop).result(10)
    try:
        yield f"http://{host}:{server.sockets[0].getsockname()[1]}/v1"
    finally:
        async def shutdown() -> None:
            server.close()
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:            # open keep-alive connections
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A minimal OpenAI-compatible responder for tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="port to listen on (0: any free one)")
    parser.add_argument("--fail-first", type=int, default=0, metavar="K", help="answer the first K chats with 503")
    parser.add_argument("--status", type=int, metavar="S", help="answer every chat with status S and an error body")
    parser.add_argument("--retry-after", type=float, metavar="SECONDS", help="Retry-After header on failures")
    parser.add_argument("--cut-stream", action="store_true", help="drop the connection after a stream's first chunk")
    parser.add_argument("--sleep-mode", action="store_true", help="answer /sleep, /wake_up and /is_sleeping as vLLM")
    parser.add_argument("--hold-mb", type=int, default=0, metavar="MB", help="hold this much memory, as a model would")
    args = parser.parse_args(argv)
    responder = Responder(args.fail_first, args.status, args.retry_after, args.cut_stream, sleep_mode=args.sleep_mode)
    held = bytearray(args.hold_mb << 20)
    for i in range(0, len(held), 4096):
        held[i] = 1            # touched, so it is resident

    async def run() -> None:
        server = await responder.serve(args.host, args.port)
        print(f"responder listening on http://{args.host}:{server.sockets[0].getsockname()[1]}/v1", flush=True)
        async with server:
            await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
