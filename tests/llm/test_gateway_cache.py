"""The gateway's response cache over real HTTP, backed by a real Redis that dies mid-run."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import httpx
import openai
import pytest
from servers import REDIS_SERVER, RedisServer, running_gateway, running_responder


def _upstream_calls(url: str) -> int:
    return httpx.get(url.removesuffix("/v1") + "/stats").json()["chat_requests"]


def _metric(gateway: str, name: str) -> float:
    text = httpx.get(gateway.removesuffix("/v1") + "/metrics").text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


@pytest.fixture(scope="module")
def stack():
    if not Path(REDIS_SERVER).is_file():
        pytest.skip(f"redis-server not found at {REDIS_SERVER}; apt-get install redis-server")
    redis = RedisServer()
    redis.start()
    env = dict(os.environ, ANIMSTUDIO_LLM__CACHE__REDIS_URL=redis.url)
    with contextlib.ExitStack() as es:
        upstream = es.enter_context(running_responder())
        gateway = es.enter_context(running_gateway("--upstream", f"echo={upstream}@echo", env=env))
        yield upstream, gateway, redis
    redis.kill()


def test_deterministic_requests_are_answered_from_the_cache(stack):
    upstream, gateway, _ = stack
    client = openai.OpenAI(base_url=gateway, api_key="x")
    ask = {"model": "echo", "temperature": 0, "messages": [{"role": "user", "content": "cache me"}]}
    before = _upstream_calls(upstream)
    first = client.chat.completions.create(**ask)
    second = client.chat.completions.create(**ask)
    streamed = client.chat.completions.create(**ask, stream=True)   # a hit replays as a stream
    assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == "cache me"
    assert first.choices[0].message.content == second.choices[0].message.content == "cache me"
    assert _upstream_calls(upstream) == before + 1
    assert _metric(gateway, 'llm_cache_total{result="hit"}') >= 2
    client.chat.completions.create(**{**ask, "temperature": 0.8})   # not deterministic: never cached
    client.chat.completions.create(**{**ask, "temperature": 0.8})
    assert _upstream_calls(upstream) == before + 3


def test_redis_killed_mid_run_requests_go_on_uncached(stack):
    upstream, gateway, redis = stack
    client = openai.OpenAI(base_url=gateway, api_key="x", max_retries=0)
    redis.kill()
    for i in range(5):
        reply = client.chat.completions.create(model="echo", temperature=0,
                                               messages=[{"role": "user", "content": f"after redis {i}"}])
        assert reply.choices[0].message.content == f"after redis {i}"
    assert _metric(gateway, "llm_cache_backend_errors_total") >= 1


def test_rate_limits_are_shared_through_redis(tmp_path):
    if not Path(REDIS_SERVER).is_file():
        pytest.skip("redis-server not installed")
    redis = RedisServer()
    redis.start()
    env = dict(os.environ, ANIMSTUDIO_LLM__CACHE__REDIS_URL=redis.url, ANIMSTUDIO_LLM__GATEWAY__REQUESTS_PER_MINUTE="4")
    try:
        with contextlib.ExitStack() as es:
            upstream = es.enter_context(running_responder())
            one = es.enter_context(running_gateway("--upstream", f"echo={upstream}@echo", "--api-key", "k", env=env))
            two = es.enter_context(running_gateway("--upstream", f"echo={upstream}@echo", "--api-key", "k", env=env))
            for _ in range(2):   # budgets are per clock minute: try again if one ended in between
                minute = int(time.time() // 60)
                codes = [httpx.post(f"{url}/chat/completions", headers={"Authorization": "Bearer k"},
                                    json={"model": "echo", "messages": [{"role": "user", "content": str(i)}]}
                                    ).status_code for i, url in enumerate([one, two] * 3)]
                if int(time.time() // 60) == minute:
                    break
                time.sleep(max(0.0, 60 - time.time() % 60))
    finally:
        redis.kill()
    assert codes.count(200) == 4 and codes.count(429) == 2   # 4 a minute across both gateways
