"""A scripted LLM engine: the replies are written beforehand (in turn) or made by a function of the
request, and every request is kept. It registers through the same hook as any engine plugin.

    from animstudio import plugins
    from animstudio.testing import engines

    plugins.register_module(engines)                       # adds the engine "scripted"
    engine = plugins.get_backend("llm_engine", "scripted")(replies=['{"title": "T"}'])
    Client(engine).chat([{"role": "user", "content": "hi"}])    # '{"title": "T"}'; engine.requests[-1]

To give the configured client (``Client()``, as pipelines use it) this engine, serve it and point the
settings at it: ``serve_in_thread(engine=engine)`` (:mod:`animstudio.testing.responder`), then
``ANIMSTUDIO_LLM__BASE_URL`` set to the URL it yields.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pydantic import Field

from animstudio.hookspecs import hookimpl
from animstudio.llm.base import Engine, Request, Response, check_request, completion

Script = Callable[[Request], str]


class ScriptedEngine(Engine):
    """Answers from a script: the ``replies`` in turn (the last one repeats), or ``script(request)``."""

    name = "scripted"
    description = "replies written beforehand, for tests and examples"

    class Options(Engine.Options):
        replies: list[str] = Field(default_factory=list, description="the replies in turn; the last one repeats")

    def __init__(self, options: Any = None, script: Script | None = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        self.script = script
        self.requests: list[Request] = []
        self._lock = threading.Lock()

    def chat(self, request: Request) -> Response:
        check_request(request)
        with self._lock:
            self.requests.append(request)
            turn = len(self.requests) - 1
        if self.script is not None:
            text = self.script(request)
        else:
            replies = self.options.replies   # type: ignore[attr-defined]
            text = replies[min(turn, len(replies) - 1)] if replies else ""
        words = len(text.split())
        return completion(request.get("model") or self.name, text,
                          usage={"prompt_tokens": 0, "completion_tokens": words, "total_tokens": words})


@hookimpl
def register_llm_engines(register: Any) -> None:
    register(ScriptedEngine)
