"""The ``openai`` engine: any OpenAI-compatible upstream (vLLM, llama.cpp's server, Ollama, OpenAI).

Requests go out as they came in (``response_format``, ``tools``, image parts...), so whatever the
upstream understands works. One keep-alive ``httpx.Client`` per engine. Connection errors,
timeouts, 429 and 5xx are retried with exponential backoff (a numeric ``Retry-After`` is honoured,
up to 10 s); other 4xx are the request's fault and raise :class:`InvalidInputError` at once.

    engine = OpenAIEngine(base_url="http://127.0.0.1:8000/v1", model="qwen2.5-7b-instruct")
    engine.chat({"messages": [{"role": "user", "content": "Hi"}]})["choices"][0]["message"]["content"]
    for chunk in engine.stream({"messages": [{"role": "user", "content": "Hi"}]}): ...
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import httpx
from pydantic import Field, field_validator

from animstudio.errors import InvalidInputError, ServiceUnavailableError
from animstudio.llm.base import Engine, Request, Response, check_request, chunks_of

MAX_RETRY_AFTER_S = 10.0
T = TypeVar("T")


def _error_message(response: httpx.Response) -> str:
    """The upstream's own words for an error response (OpenAI: ``{"error": {"message": ...}}``)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300] or response.reason_phrase or "no details"
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            for key in ("message", "detail", "msg"):
                if error.get(key):
                    return str(error[key])[:500]
        elif error:
            return str(error)[:500]
        if body.get("detail"):          # FastAPI-style servers
            return str(body["detail"])[:500]
    return json.dumps(body)[:300]


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:                  # an HTTP date: fall back to our own backoff
        return None
    if seconds is None or seconds != seconds or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER_S)


def _describe(exc: httpx.TransportError) -> str:
    kind = {httpx.ConnectError: "connection refused or host unreachable", httpx.ConnectTimeout: "connect timed out",
            httpx.ReadTimeout: "no answer in time", httpx.WriteTimeout: "sending timed out",
            httpx.PoolTimeout: "no free connection in time"}.get(type(exc), type(exc).__name__)
    detail = str(exc).strip()
    return f"{kind}: {detail}" if detail else kind


def _events(lines: Iterable[str]) -> Iterator[str]:
    """The ``data`` of each server-sent event, up to ``[DONE]`` (comments and other fields skipped)."""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                payload = "\n".join(data)
                data = []
                if payload.strip() == "[DONE]":
                    return
                yield payload
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:                            # a last event without its blank line
        payload = "\n".join(data)
        if payload.strip() != "[DONE]":
            yield payload


class _Retry(Exception):
    """One attempt failed in a way worth trying again."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class OpenAIEngine(Engine):
    name = "openai"
    description = "an OpenAI-compatible server (vLLM, llama.cpp server, Ollama, OpenAI) over HTTP"
    supports_schema = True      # response_format is passed through to the upstream
    supports_images = True      # image parts too; the upstream decides what it reads

    class Options(Engine.Options):
        base_url: str = Field(description="the upstream's API root, e.g. http://127.0.0.1:8000/v1")
        api_key: str | None = Field(None, description="sent as 'Authorization: Bearer ...'")
        model: str | None = Field(None, description="model sent when a request names none; unset: the upstream's first")
        timeout_s: float = Field(120, gt=0, description="seconds to wait for an answer (between stream chunks)")
        connect_timeout_s: float = Field(5, gt=0, description="seconds to wait for a connection")
        retries: int = Field(2, ge=0, le=20, description="tries again after connection errors, timeouts, 429, 5xx")
        backoff_s: float = Field(0.5, ge=0, description="first wait between tries; doubles each time")

        @field_validator("base_url")
        @classmethod
        def _url(cls, value: str) -> str:
            value = value.strip().rstrip("/")
            if not value.startswith(("http://", "https://")):
                raise ValueError("must start with http:// or https:// (e.g. http://127.0.0.1:8000/v1)")
            return value

    def __init__(self, options: Any = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        o = self.options
        self.base_url: str = o.base_url
        headers = {"Authorization": f"Bearer {o.api_key}"} if o.api_key else {}
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(o.timeout_s, connect=o.connect_timeout_s))
        self._default_model: str | None = o.model

    # -- the Engine interface -------------------------------------------------------------------

    def chat(self, request: Request) -> Response:
        body = self._body(request, stream=False)
        return self._with_retries(lambda: self._post_json(body))

    def stream(self, request: Request) -> Iterator[Response]:
        body = self._body(request, stream=True)
        attempt = 0
        while True:
            sent = 0
            try:
                with self._client.stream("POST", self._url("/chat/completions"), json=body,
                                         headers={"Accept": "text/event-stream"}) as response:
                    self._check(response, read=True)
                    if response.headers.get("content-type", "").startswith("application/json"):
                        chunks: Iterable[Response] = chunks_of(self._json(response, read=True))  # ignored stream
                    else:
                        chunks = self._chunks(response.iter_lines())
                    for chunk in chunks:
                        sent += 1
                        yield chunk
                return
            except httpx.TransportError as exc:
                if sent:                # half an answer cannot be taken back: never retried
                    raise ServiceUnavailableError(f"the LLM upstream at {self.base_url} broke off a stream after "
                                                  f"{sent} chunks ({_describe(exc)}); try again") from exc
                failure = _Retry(_describe(exc))
                failure.__cause__ = exc
            except _Retry as exc:
                failure = exc
            attempt = self._wait_or_give_up(attempt, failure)

    def models(self) -> list[str]:
        def get() -> list[str]:
            response = self._request("GET", self._url("/models"))
            data = self._json(response).get("data")
            if not isinstance(data, list):
                raise ServiceUnavailableError(f"{self.base_url}/models did not answer with a model list; "
                                              "check that base_url is an OpenAI-compatible API root (…/v1)")
            return [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]

        return self._with_retries(get)

    def close(self) -> None:
        self._client.close()

    # -- helpers --------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return self.base_url + path

    def _body(self, request: Request, stream: bool) -> dict[str, Any]:
        check_request(request, images=True)
        body = dict(request)
        if not body.get("model"):
            model = self._model()
            if model:
                body["model"] = model
        body["stream"] = stream
        if not stream:
            body.pop("stream_options", None)   # OpenAI refuses stream_options without stream
        return body

    def _model(self) -> str | None:
        """The configured model; unset, the upstream's first (servers of one model need no name)."""
        if self._default_model is None:
            served = self.models()
            self._default_model = served[0] if served else ""
        return self._default_model or None

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, url, **kwargs)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise InvalidInputError(f"openai engine: base_url {self.base_url} is not a usable URL ({exc}); "
                                    "give one like http://127.0.0.1:8000/v1") from exc
        except httpx.TransportError as exc:
            raise _Retry(_describe(exc)) from exc
        self._check(response)
        return response

    def _post_json(self, body: dict[str, Any]) -> Response:
        return self._json(self._request("POST", self._url("/chat/completions"), json=body))

    def _check(self, response: httpx.Response, read: bool = False) -> None:
        """Raise for an error status: _Retry for 429/5xx, InvalidInputError for other 4xx."""
        status = response.status_code
        if status < 400:
            return
        if read:
            response.read()
        message = _error_message(response)
        if status == 429 or status >= 500:
            raise _Retry(f"HTTP {status}: {message}", _retry_after(response))
        hint = {401: "check the engine's api_key", 403: "check the engine's api_key and its permissions",
                404: "check base_url (it usually ends in /v1) and the model name"}.get(status, "fix the request")
        raise InvalidInputError(f"the LLM upstream at {self.base_url} refused the request (HTTP {status}): "
                                f"{message}; {hint}")

    def _json(self, response: httpx.Response, read: bool = False) -> dict[str, Any]:
        if read:
            response.read()
        try:
            body = response.json()
        except ValueError as exc:
            raise ServiceUnavailableError(f"the LLM upstream at {self.base_url} answered with something other than "
                                          f"JSON ({response.text[:120]!r}); check that base_url points at an "
                                          "OpenAI-compatible API") from exc
        if not isinstance(body, dict):
            raise ServiceUnavailableError(f"the LLM upstream at {self.base_url} answered with {type(body).__name__} "
                                          "JSON instead of an object; check that it is OpenAI-compatible")
        return body

    def _chunks(self, lines: Iterable[str]) -> Iterator[Response]:
        for payload in _events(lines):
            try:
                chunk = json.loads(payload)
            except ValueError as exc:
                raise ServiceUnavailableError(f"the LLM upstream at {self.base_url} sent an event that is not "
                                              f"JSON ({payload[:120]!r}); check that it is OpenAI-compatible") from exc
            if isinstance(chunk, dict) and "error" in chunk and "choices" not in chunk:
                error = chunk["error"]
                message = error.get("message", error) if isinstance(error, dict) else error
                raise ServiceUnavailableError(f"the LLM upstream at {self.base_url} failed mid-stream: {message}; "
                                              "try again, or check the upstream's log")
            yield chunk

    def _with_retries(self, call: Callable[[], T]) -> T:
        attempt = 0
        while True:
            try:
                return call()
            except _Retry as exc:
                attempt = self._wait_or_give_up(attempt, exc)

    def _wait_or_give_up(self, attempt: int, failure: _Retry) -> int:
        """Sleep before the next try and return its number, or raise once the retries are spent."""
        o = self.options
        if attempt >= o.retries:
            tries = "1 try" if attempt == 0 else f"{attempt + 1} tries"
            raise ServiceUnavailableError(f"the LLM upstream at {self.base_url} failed after {tries} "
                                          f"(last error: {failure.reason}); check that the server is running "
                                          "and base_url is right") from failure.__cause__
        delay = failure.delay if failure.delay is not None else o.backoff_s * 2 ** attempt
        if delay > 0:
            time.sleep(delay)
        return attempt + 1
