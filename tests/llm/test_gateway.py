"""The gateway over real HTTP: the official openai client -> gateway -> gateway running the
embedded engine (smollm2)."""

from __future__ import annotations

import json
import os
import time

import httpx
import numpy as np
import openai
import pytest
from pydantic import BaseModel, Field
from servers import running_gateway


@pytest.fixture(scope="module")
def gateways(warehouse):
    env = dict(os.environ, ANIMSTUDIO_MODELS=str(warehouse))
    with running_gateway("--model", "smollm2-135m-instruct", "--threads", "2", "--no-cache", env=env) as inner, \
            running_gateway("--upstream", f"smollm2={inner}", "--no-cache", env=env) as outer:
        yield inner.removesuffix("/v1"), outer.removesuffix("/v1")


@pytest.fixture
def client(gateways):
    return openai.OpenAI(base_url=f"{gateways[1]}/v1", api_key="unused")


def test_models_and_health(gateways, client):
    assert [m.id for m in client.models.list().data] == ["smollm2"]
    assert httpx.get(f"{gateways[1]}/health").json()["status"] == "ok"


def direct(gateways, **body) -> dict:
    """The inner gateway's answer to ``body``: what the outer one must pass through unchanged."""
    reply = httpx.post(f"{gateways[0]}/v1/chat/completions", timeout=120,
                       json={"model": "smollm2-135m-instruct", **body})
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_chat_through_two_gateways(gateways, client):
    body = {"messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 12, "temperature": 0}
    reply = client.chat.completions.create(model="smollm2", **body)
    inner = direct(gateways, **body)
    assert reply.choices[0].message.content == inner["choices"][0]["message"]["content"]
    assert reply.model == "smollm2" and reply.choices[0].finish_reason == "length"   # cut at max_tokens
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (33, 12, 45)


def test_streaming_is_openai_sse(client):
    whole = client.chat.completions.create(model="smollm2", messages=[{"role": "user", "content": "Count to five."}],
                                           max_tokens=16, temperature=0).choices[0].message.content
    stream = client.chat.completions.create(model="smollm2", stream=True, max_tokens=16, temperature=0,
                                            messages=[{"role": "user", "content": "Count to five."}])
    pieces = [c.choices[0].delta.content or "" for c in stream if c.choices]
    assert len(pieces) > 3 and "".join(pieces) == whole


class Scene(BaseModel):
    title: str = Field(max_length=60)
    characters: list[str] = Field(max_length=3)
    seconds: int


def test_structured_output_passes_through(gateways, client):
    schema = Scene.model_json_schema()
    body = {"temperature": 0, "max_tokens": 400,
            "messages": [{"role": "system", "content": f"Answer with JSON that fits: {json.dumps(schema)}"},
                         {"role": "user", "content": "Plan a short cartoon scene."}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "Scene", "schema": schema}}}
    direct(gateways, **body)   # the prompt read once: the calls compared below both reuse it (llama.cpp's
    # sums differ in their last bits between a prompt read whole and one taken from the cache)
    reply = client.chat.completions.create(model="smollm2", **body)
    text = reply.choices[0].message.content
    Scene.model_validate_json(text)
    assert reply.choices[0].finish_reason == "stop" and list(json.loads(text)) == ["title", "characters", "seconds"]
    # the schema reached the engine: the same constrained answer as asking the inner gateway directly
    assert text == direct(gateways, **body)["choices"][0]["message"]["content"]


def test_errors_are_openai_shaped(gateways, client):
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "hi"}])
    assert "smollm2" in err.value.body["message"]
    bad = httpx.post(f"{gateways[1]}/v1/chat/completions", content=b"{not json",
                     headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError) as err:   # the embedded engine reads text only
        client.chat.completions.create(model="smollm2", messages=[
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]}])
    assert "text only" in err.value.body["message"]


WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather of a city",
    "parameters": {"type": "object", "required": ["city", "unit"], "properties": {
        "city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}}}}}


def test_tools_are_answered_with_openai_tool_calls(client):
    """The embedded engine answers ``tools`` with native tool calls (not JSON text in content), whole
    and streamed, through two gateways and the official client."""
    ask = [{"role": "user", "content": "What is the weather in Rome?"}]
    body = dict(model="smollm2", messages=ask, tools=[WEATHER], tool_choice="required", max_tokens=200, temperature=0)
    choice = client.chat.completions.create(**body).choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.function.name == "get_weather" and call.id.startswith("call_")
    args = json.loads(call.function.arguments)
    assert set(args) == {"city", "unit"} and args["unit"] in ("c", "f") and isinstance(args["city"], str)

    chunks = list(client.chat.completions.create(**body, stream=True))
    streamed = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert [tc.index for tc in streamed] == list(range(len(streamed))) and streamed[0].function.name == "get_weather"
    assert json.loads(streamed[0].function.arguments) == args     # temperature 0: the same call
    assert chunks[-1].choices[0].finish_reason == "tool_calls"

    result = {"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 21, "sky": "sunny"}'}
    words = client.chat.completions.create(model="smollm2", tools=[WEATHER], tool_choice="none", max_tokens=24,
                                           messages=[*ask, choice.message.model_dump(exclude_none=True), result])
    assert words.choices[0].message.tool_calls is None and words.choices[0].message.content


def test_bad_tools_are_400s(client):
    ask = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(model="smollm2", messages=ask, tools=[WEATHER],
                                       tool_choice={"type": "function", "function": {"name": "rm_rf"}})
    assert "'rm_rf', which is not among the tools: get_weather" in err.value.body["message"]
    with pytest.raises(openai.BadRequestError, match="tools\\[0\\] must be"):
        client.chat.completions.create(model="smollm2", messages=ask, tools=[{"type": "function", "function": {}}])


def test_embeddings_from_the_catalog_model(client):
    result = client.embeddings.create(model="all-minilm-l6-v2", input=["a cat", "a kitten", "a dump truck"])
    cat, kitten, truck = (np.array(d.embedding) for d in result.data)
    assert cat.shape == (384,) and abs(np.linalg.norm(cat) - 1) < 1e-3
    assert cat @ kitten > cat @ truck + 0.1
    assert result.usage.prompt_tokens > 0


def test_a_client_that_leaves_mid_stream_stops_the_generation(gateways):
    inner = gateways[0]
    with httpx.stream("POST", f"{inner}/v1/chat/completions", timeout=30, json={
            "model": "smollm2-135m-instruct", "stream": True, "max_tokens": 1500, "temperature": 0.8,
            "messages": [{"role": "user", "content": "Write a very long story about a rabbit."}]}) as r:
        lines = r.iter_lines()
        assert next(lines).startswith("data:")
    # the one decoding slot is free again at once: a new request does not wait for 1500 tokens
    started = time.monotonic()
    reply = httpx.post(f"{inner}/v1/chat/completions", timeout=60, json={
        "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4, "temperature": 0})
    assert reply.status_code == 200 and time.monotonic() - started < 5
