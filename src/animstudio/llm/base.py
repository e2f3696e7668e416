"""The engine interface: OpenAI's chat-completions format in, OpenAI's format out.

Requests and responses are plain dicts in the shape OpenAI's API documents (``messages``,
``response_format``, ``tools``, ``choices``, ``usage``...), so anything an upstream understands
passes through untouched. An engine implements ``chat``; streaming engines also ``stream``, which
yields ``chat.completion.chunk`` dicts.

    class Echo(Engine):
        name = "echo"
        def chat(self, request):
            text = request["messages"][-1]["content"]
            return completion(request.get("model", self.name), text)
"""

from __future__ import annotations

import time
import uuid
from abc import abstractmethod
from collections.abc import Iterator
from typing import Any

from animstudio.backend import Backend
from animstudio.errors import InvalidInputError

Request = dict[str, Any]
Response = dict[str, Any]


class Engine(Backend):
    """An LLM engine (registered through the ``register_llm_engines`` hook)."""

    supports_schema: bool = False   # honours response_format json_schema by constrained decoding
    supports_images: bool = False   # accepts image_url content parts

    @abstractmethod
    def chat(self, request: Request) -> Response:
        """One chat completion (``request["stream"]`` is ignored)."""

    def stream(self, request: Request) -> Iterator[Response]:
        """Chunks of one completion; engines that cannot stream answer in one chunk."""
        yield from chunks_of(self.chat(request))

    def models(self) -> list[str]:
        """The model names this engine serves."""
        return [self.name]

    def close(self) -> None:
        """Free what the engine holds (a loaded model, connections)."""


def check_request(request: Request, images: bool = False) -> Request:
    """The checks every engine makes: messages present and well formed; image parts only where allowed."""
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidInputError("a chat request needs a non-empty list of messages")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m:
            raise InvalidInputError(f"message {i} needs a role (system, user, assistant or tool)")
        content = m.get("content")
        if isinstance(content, list) and not images:
            if any(isinstance(p, dict) and p.get("type") in ("image_url", "input_image") for p in content):
                raise InvalidInputError("this model reads text only; send images to a vision-language model "
                                        "(e.g. Qwen2.5-VL behind an OpenAI-compatible upstream)")
    return request


def completion(model: str, text: str, finish_reason: str = "stop", usage: dict[str, int] | None = None) -> Response:
    """A ``chat.completion`` dict with one assistant message."""
    return {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "created": int(time.time()),
            "model": model, "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                         "finish_reason": finish_reason}],
            "usage": usage or {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}


def chunks_of(response: Response) -> Iterator[Response]:
    """A complete response as the chunks a stream of it would have had."""
    base = {"id": response.get("id", f"chatcmpl-{uuid.uuid4().hex[:24]}"), "object": "chat.completion.chunk",
            "created": response.get("created", int(time.time())), "model": response.get("model", "")}
    choice = response["choices"][0]
    message = choice.get("message", {})
    yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    delta = {k: v for k, v in message.items() if k != "role" and v is not None}
    if "tool_calls" in delta:   # a stream numbers its calls, so a client can put their pieces together
        delta["tool_calls"] = [{"index": i, **call} for i, call in enumerate(delta["tool_calls"])]
    if delta:
        yield {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": choice.get("finish_reason", "stop")}],
           **({"usage": response["usage"]} if "usage" in response else {})}


def text_of(response: Response) -> str:
    """The assistant's text of a chat completion."""
    try:
        return response["choices"][0]["message"].get("content") or ""
    except (KeyError, IndexError, TypeError) as exc:
        raise InvalidInputError(f"not a chat completion: {str(response)[:200]}") from exc
