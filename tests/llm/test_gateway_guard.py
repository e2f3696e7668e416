"""The gateway's routing and guards over real HTTP, with the tiny responder as upstream: failover,
all upstreams down, API keys, limits, metrics, many concurrent streams."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import openai
import pytest
from servers import free_port, running_gateway, running_responder

HELLO = [{"role": "user", "content": "hello there"}]


@pytest.fixture(scope="module")
def gateway():
    dead = f"http://127.0.0.1:{free_port()}/v1"   # nothing listens there
    with contextlib.ExitStack() as stack:
        live = stack.enter_context(running_responder())
        url = stack.enter_context(running_gateway(
            "--upstream", f"echo={dead}@echo,{live}@echo", "--upstream", f"down={dead}@echo",
            "--api-key", "k1", "--api-key", "k2", "--no-cache"))
        _LIVE[url] = live
        yield url, dead


_LIVE: dict[str, str] = {}


def _upstreams(gateway) -> list[str]:
    return [_LIVE[gateway[0]], gateway[1]]


def test_failover_to_the_next_upstream(gateway):
    client = openai.OpenAI(base_url=gateway[0], api_key="k2")
    reply = client.chat.completions.create(model="echo", messages=HELLO)
    assert reply.choices[0].message.content == "hello there" and reply.model == "echo"
    stream = client.chat.completions.create(model="echo", messages=HELLO, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "hello there"


def test_all_upstreams_down_is_502_naming_them(gateway):
    client = openai.OpenAI(base_url=gateway[0], api_key="k1", max_retries=0)
    with pytest.raises(openai.APIStatusError) as err:
        client.chat.completions.create(model="down", messages=HELLO)
    assert err.value.status_code == 502 and gateway[1] in err.value.body["message"]


def test_api_keys(gateway):
    for key in ("wrong", ""):
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=gateway[0], api_key=key or "x", max_retries=0,
                          default_headers={"Authorization": key and f"Bearer {key}"}).models.list()
    assert httpx.post(f"{gateway[0]}/chat/completions", json={"messages": HELLO}).status_code == 401


def test_limits_and_metrics(gateway):
    headers = {"Authorization": "Bearer k1"}
    too_many = httpx.post(f"{gateway[0]}/chat/completions", headers=headers,
                          json={"model": "echo", "messages": HELLO, "max_tokens": 10**6})
    assert too_many.status_code == 400 and "limit" in too_many.json()["error"]["message"]
    metrics = httpx.get(gateway[0].removesuffix("/v1") + "/metrics").text
    assert 'llm_requests_total{model="echo",status="200"}' in metrics
    assert "llm_upstream_errors_total" in metrics and "llm_request_seconds_bucket" in metrics


def test_200_concurrent_streams_all_complete(gateway):
    async def run() -> list[str]:
        client = openai.AsyncOpenAI(base_url=gateway[0], api_key="k1", max_retries=0,
                                    http_client=httpx.AsyncClient(limits=httpx.Limits(max_connections=200)))

        async def one(i: int) -> str:
            stream = await client.chat.completions.create(
                model="echo", stream=True, messages=[{"role": "user", "content": f"line {i}"}])
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

        try:
            return await asyncio.gather(*(one(i) for i in range(200)))
        finally:
            await client.close()

    assert asyncio.run(run()) == [f"line {i}" for i in range(200)]


def test_tools_images_and_response_format_reach_the_upstream_as_sent(gateway):
    params = {"type": "object", "properties": {"at": {"type": "number"}}}
    tools = [{"type": "function", "function": {"name": "cut", "description": "cut the clip", "parameters": params}}]
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    messages = [{"role": "user", "content": [{"type": "text", "text": "what is in this frame?"}, image]}]
    reply = httpx.post(f"{gateway[0]}/chat/completions", headers={"Authorization": "Bearer k1"},
                       json={"model": "echo", "messages": messages, "tools": tools, "tool_choice": "auto",
                             "response_format": fmt})
    assert reply.status_code == 200, reply.text
    live = next(u for u in _upstreams(gateway) if u != gateway[1])
    seen = httpx.get(live.removesuffix("/v1") + "/last").json()["request"]
    assert seen["tools"] == tools and seen["tool_choice"] == "auto" and seen["response_format"] == fmt
    assert seen["messages"] == messages and seen["model"] == "echo"


def test_a_dead_upstream_is_skipped_once_its_breaker_opens(gateway):
    client = openai.OpenAI(base_url=gateway[0], api_key="k1")
    errors = lambda: sum(float(line.rsplit(" ", 1)[1]) for line in httpx.get(  # noqa: E731
        gateway[0].removesuffix("/v1") + "/metrics").text.splitlines()
        if line.startswith("llm_upstream_errors_total{") and gateway[1] in line)
    for _ in range(4):
        client.chat.completions.create(model="echo", messages=HELLO)
    opened = errors()
    for _ in range(5):
        client.chat.completions.create(model="echo", messages=HELLO)
    # the dead one is tried no more while its breaker is open (at most one probe once its 30 s are up)
    assert opened >= 3 and errors() - opened <= 1
