"""The typed client every capability uses to talk to an LLM, and structured output.

``structured(messages, Model)`` returns a validated pydantic object: the schema goes to the engine
as ``response_format`` (constrained decoding where the engine has it: llama.cpp grammars, vLLM
guided JSON); whatever comes back is validated, and a reply that does not fit gets one retry that
shows the model its validation error.

    client = Client(get_engine("embedded", model="smollm2-135m-instruct"))
    client.chat([{"role": "user", "content": "Name a colour"}], max_tokens=8)      # 'Blue'
    plan = client.structured(messages, ShotPlan)                                     # a ShotPlan
    async for piece in AsyncClient(engine).stream(messages): ...
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from animstudio.errors import StudioError
from animstudio.llm.base import Engine, Request, Response, text_of

M = TypeVar("M", bound=BaseModel)


class StructuredOutputError(StudioError):
    """The model's reply did not fit the schema, also after a repair attempt."""

    http_status = 502


def engine(name: str | None = None, **options: Any) -> Engine:
    """An engine by name with options; without a name, the configured one: the engine named by
    ``llm.engine``, else an upstream when ``llm.base_url`` is set, else the embedded engine."""
    from animstudio.config import load_settings
    from animstudio.plugins import get_backend

    settings = load_settings().llm
    if name is None:
        if settings.engine:
            name = settings.engine
        elif settings.base_url:
            name, options = "openai", {"base_url": settings.base_url, **options}
        else:
            name = "embedded"   # its model and threads default to llm.default_model and llm.threads
    return get_backend("llm_engine", name)(**options)


def schema_format(model: type[BaseModel]) -> dict[str, Any]:
    """``response_format`` asking for JSON that fits ``model``."""
    return {"type": "json_schema", "json_schema": {"name": model.__name__, "schema": model.model_json_schema(),
                                                   "strict": True}}


def _parse(model: type[M], text: str) -> M:
    cleaned = text.strip()
    if cleaned.startswith("```"):   # a fenced block from an unconstrained model
        cleaned = cleaned.strip("`").removeprefix("json").strip()
    return model.model_validate_json(cleaned)


class Client:
    """Chat, stream and structured output over one engine, with usage accounting."""

    def __init__(self, backend: Engine | None = None, model: str | None = None) -> None:
        self.engine = backend or engine()
        self.model = model
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "requests": 0}
        self._lock = threading.Lock()

    def _request(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> Request:
        request: Request = {"messages": messages, **params}
        if self.model and "model" not in request:
            request["model"] = self.model
        return request

    def _count(self, response: Response) -> None:
        usage = response.get("usage") or {}
        with self._lock:
            self.usage["requests"] += 1
            for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
                self.usage[key] += int(usage.get(key) or 0)

    def complete(self, messages: list[dict[str, Any]], **params: Any) -> Response:
        """The whole chat completion dict."""
        response = self.engine.chat(self._request(messages, params))
        self._count(response)
        return response

    def chat(self, messages: list[dict[str, Any]], **params: Any) -> str:
        """The assistant's text."""
        return text_of(self.complete(messages, **params))

    def stream(self, messages: list[dict[str, Any]], **params: Any) -> Iterator[str]:
        """The assistant's text, piece by piece; closing the iterator stops the engine's decoding."""
        chunks = self.engine.stream(self._request(messages, {**params, "stream": True}))
        try:
            for chunk in chunks:
                if chunk.get("usage"):
                    self._count(chunk)
                for choice in chunk.get("choices", []):
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        yield piece
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def structured(self, messages: list[dict[str, Any]], model: type[M], **params: Any) -> M:
        """A ``model`` instance from the LLM: schema-constrained where the engine can, validated
        always, with one repair attempt that shows the model its mistake."""
        schema = json.dumps(model.model_json_schema(), separators=(",", ":"))
        guide = {"role": "system", "content": f"Answer with one JSON object that fits this JSON schema: {schema}"}
        convo = [guide, *messages]
        params.setdefault("max_tokens", 1024)
        params.setdefault("temperature", 0)
        text = self.chat(convo, response_format=schema_format(model), **params)
        try:
            return _parse(model, text)
        except ValidationError as first:
            repair = [*convo, {"role": "assistant", "content": text},
                      {"role": "user", "content": f"That does not fit the schema: {_errors(first)}. Answer again "
                                                  f"with only the corrected JSON object."}]
            again = self.chat(repair, response_format=schema_format(model), **params)
            try:
                return _parse(model, again)
            except ValidationError as second:
                raise StructuredOutputError(f"the model's answer does not fit {model.__name__}: {_errors(second)}; "
                                            f"try a larger model or a simpler schema") from second


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in exc.errors()[:5])


class AsyncClient:
    """The same calls for asyncio code: the engine's blocking work runs in a worker thread."""

    def __init__(self, backend: Engine | None = None, model: str | None = None) -> None:
        self.sync = Client(backend, model)

    @property
    def usage(self) -> dict[str, int]:
        return self.sync.usage

    async def chat(self, messages: list[dict[str, Any]], **params: Any) -> str:
        return await asyncio.to_thread(self.sync.chat, messages, **params)

    async def complete(self, messages: list[dict[str, Any]], **params: Any) -> Response:
        return await asyncio.to_thread(self.sync.complete, messages, **params)

    async def structured(self, messages: list[dict[str, Any]], model: type[M], **params: Any) -> M:
        return await asyncio.to_thread(self.sync.structured, messages, model, **params)

    async def stream(self, messages: list[dict[str, Any]], **params: Any) -> AsyncIterator[str]:
        pieces = self.sync.stream(messages, **params)
        done = object()
        try:
            while (piece := await asyncio.to_thread(next, pieces, done)) is not done:
                yield piece  # type: ignore[misc]
        finally:
            pieces.close()  # type: ignore[attr-defined]
