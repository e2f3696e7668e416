"""A scripted LLM engine: the replies are written beforehand (in turn) or made by a function of the
request, and every request is kept. It registers through the same hook as any engine plugin. A request
with ``tools`` is answered as the embedded engine answers one: a script that writes
``{"tool_calls": [{"name": ..., "arguments": {...}}]}`` gets OpenAI ``tool_calls`` back.

    from animstudio import plugins
    from animstudio.testing import engines

    plugins.register_module(engines)                       # adds the engine "scripted"
    engine = plugins.get_backend("llm_engine", "scripted")(replies=['{"title": "T"}'])
    Client(engine).chat([{"role": "user", "content": "hi"}])    # '{"title": "T"}'; engine.requests[-1]
    ScriptedEngine(script=lambda request: json.dumps(fill_schema(request_schema(request))))   # fits any schema

To give the configured client (``Client()``, as pipelines use it) this engine, serve it and point the
settings at it: ``serve_in_thread(engine=engine)`` (:mod:`animstudio.testing.responder`), then
``ANIMSTUDIO_LLM__BASE_URL`` set to the URL it yields.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import Field

from animstudio.hookspecs import hookimpl
from animstudio.llm.base import Engine, Request, Response, check_request, completion

Script = Callable[[Request], str]


class ScriptedEngine(Engine):
    """Answers from a script: the ``replies`` in turn (the last one repeats), or ``script(request)``."""

    name = "scripted"
    description = "replies written beforehand, for tests and examples"
    supports_images = True   # it stands in for a vision-language model too: image parts are kept in requests

    class Options(Engine.Options):
        replies: list[str] = Field(default_factory=list, description="the replies in turn; the last one repeats")
        piece: int = Field(0, ge=0, description="a stream gives the reply this many characters a chunk, as a "
                                                "model gives tokens (0: in one chunk)")

    def __init__(self, options: Any = None, script: Script | None = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        self.script = script
        self.requests: list[Request] = []
        self.streamed = 0
        self._lock = threading.Lock()

    def stream(self, request: Request) -> Iterator[Response]:
        """The reply in pieces of ``piece`` characters; ``self.streamed`` counts the pieces read, so a
        test sees where a reader stopped."""
        from animstudio.llm.base import chunks_of

        size = self.options.piece   # type: ignore[attr-defined]
        whole = list(chunks_of(self.chat(request)))
        text = whole[1]["choices"][0]["delta"].get("content") if size and len(whole) == 3 else None
        if not isinstance(text, str):
            yield from whole
            return
        self.streamed = 0
        yield whole[0]
        for at in range(0, len(text), size):
            self.streamed += 1
            delta = {"content": text[at:at + size]}
            yield {**whole[1], "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
        yield whole[2]

    def chat(self, request: Request) -> Response:
        check_request(request, images=True)
        with self._lock:
            self.requests.append(request)
            turn = len(self.requests) - 1
        if self.script is not None:
            text = self.script(request)
        else:
            replies = self.options.replies   # type: ignore[attr-defined]
            text = replies[min(turn, len(replies) - 1)] if replies else ""
        words = len(text.split())
        reply = completion(request.get("model") or self.name, text,
                           usage={"prompt_tokens": 0, "completion_tokens": words, "total_tokens": words})
        from animstudio.llm import tool_calls

        if tool_calls.wants_tools(request):   # the script writes what a constrained model writes
            return tool_calls.answer(request, reply)
        return reply


def fill_schema(schema: dict[str, Any], text: Callable[[str], str] = lambda name: name) -> Any:
    """A value that fits a JSON schema: the first of every choice (``const``, ``enum``, ``anyOf``),
    every property of an object, ``text(property name)`` for a string, the minimum for a number.
    A scripted reply to a structured request: ``json.dumps(fill_schema(request_schema(request)))``."""
    defs = schema.get("$defs", {})

    def fill(node: dict[str, Any], name: str) -> Any:
        if "$ref" in node:
            return fill(defs[node["$ref"].rsplit("/", 1)[-1]], name)
        if "const" in node:
            return node["const"]
        if "enum" in node:
            return node["enum"][0]
        for key in ("anyOf", "oneOf", "allOf"):
            if key in node:
                return fill(node[key][0], name)
        kind = node.get("type", "object")
        if kind == "object":
            return {key: fill(value, key) for key, value in node.get("properties", {}).items()}
        if kind == "array":
            return [fill(node.get("items", {}), name) for _ in range(node.get("minItems", 0))]
        if kind in ("integer", "number"):
            return node.get("minimum", 0)
        if kind == "boolean":
            return False
        return text(name) if kind == "string" else None

    return fill(schema, "")


def request_schema(request: Request) -> dict[str, Any]:
    """The JSON schema a structured request asks its answer to fit (``{}`` when it asks for none)."""
    return ((request.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}


@hookimpl
def register_llm_engines(register: Any) -> None:
    register(ScriptedEngine)
