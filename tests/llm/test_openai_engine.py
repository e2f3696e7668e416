"""The ``openai`` engine against a real OpenAI-compatible server: animstudio.testing.responder, as a process."""

from __future__ import annotations

import contextlib
import importlib.util
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from servers import RESPONDER, free_port, running_responder

from animstudio.errors import InvalidInputError, ServiceUnavailableError
from animstudio.llm.engines.openai_compat import OpenAIEngine

HELLO = {"model": "tiny", "messages": [{"role": "system", "content": "Be brief."},
                                       {"role": "user", "content": "hello there"}]}


def chat_requests(base_url: str) -> int:
    return httpx.get(base_url.removesuffix("/v1") + "/stats", timeout=5).json()["chat_requests"]


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """One well-behaved responder shared by the module's round-trip tests."""
    with running_responder() as url:
        yield url


@pytest.fixture
def responder() -> Iterator[Callable[..., str]]:
    """``responder("--fail-first", "2")``: a fresh responder (fresh counters) for one test."""
    with contextlib.ExitStack() as stack:
        yield lambda *flags: stack.enter_context(running_responder(*flags))


@pytest.fixture
def engine_for() -> Iterator[Callable[..., OpenAIEngine]]:
    engines: list[OpenAIEngine] = []

    def make(base_url: str, **options: object) -> OpenAIEngine:
        engines.append(OpenAIEngine(base_url=base_url, **{"backoff_s": 0.01, **options}))
        return engines[-1]

    yield make
    for engine in engines:
        engine.close()


# -- round trips ------------------------------------------------------------------------------------


def test_chat_round_trip(upstream: str, engine_for: Callable[..., OpenAIEngine]) -> None:
    engine = engine_for(upstream, api_key="secret")
    out = engine.chat(HELLO)
    assert out["object"] == "chat.completion"
    assert out["model"] == "tiny"
    assert out["choices"][0]["message"] == {"role": "assistant", "content": "hello there", "refusal": None}
    assert out["choices"][0]["finish_reason"] == "stop"
    assert out["usage"]["completion_tokens"] == 2
    # keep-alive: a second call on the same client works too
    assert engine.chat({**HELLO, "messages": [{"role": "user", "content": "again"}]})["choices"][0]["message"][
        "content"] == "again"


def test_default_model(upstream: str, engine_for: Callable[..., OpenAIEngine]) -> None:
    request = {"messages": [{"role": "user", "content": "hi"}]}
    assert engine_for(upstream, model="configured").chat(request)["model"] == "configured"
    assert engine_for(upstream).chat(request)["model"] == "responder-echo"   # the upstream's first model


def test_stream_yields_chunks_in_order(upstream: str, engine_for: Callable[..., OpenAIEngine]) -> None:
    chunks = list(engine_for(upstream).stream(HELLO))
    assert len(chunks) == 3
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "tiny" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas == [{"role": "assistant", "content": ""}, {"content": "hello there"}, {}]
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, "stop"]


def test_stream_with_usage(upstream: str, engine_for: Callable[..., OpenAIEngine]) -> None:
    chunks = list(engine_for(upstream).stream({**HELLO, "stream_options": {"include_usage": True}}))
    assert len(chunks) == 4
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 6


def test_models(upstream: str, engine_for: Callable[..., OpenAIEngine]) -> None:
    assert engine_for(upstream + "/").models() == ["responder-echo"]


def test_request_checked_before_sending(upstream: str, engine_for: Callable[..., OpenAIEngine]) -> None:
    with pytest.raises(InvalidInputError, match="messages"):
        engine_for(upstream).chat({"model": "tiny", "messages": []})


def test_bad_base_url() -> None:
    with pytest.raises(InvalidInputError, match="base_url"):
        OpenAIEngine(base_url="127.0.0.1:8000/v1")


# -- retries ----------------------------------------------------------------------------------------


def test_retries_until_upstream_answers(responder: Callable[..., str], engine_for: Callable[..., OpenAIEngine]) -> None:
    url = responder("--fail-first", "2")
    assert engine_for(url, retries=2).chat(HELLO)["choices"][0]["message"]["content"] == "hello there"
    assert chat_requests(url) == 3


def test_retries_run_out(responder: Callable[..., str], engine_for: Callable[..., OpenAIEngine]) -> None:
    url = responder("--fail-first", "5")
    with pytest.raises(ServiceUnavailableError) as info:
        engine_for(url, retries=2).chat(HELLO)
    assert url in str(info.value) and "503" in str(info.value) and "warming up" in str(info.value)
    assert chat_requests(url) == 3


def test_stream_retried_before_first_chunk(responder: Callable[..., str],
                                           engine_for: Callable[..., OpenAIEngine]) -> None:
    url = responder("--fail-first", "1")
    assert len(list(engine_for(url, retries=1).stream(HELLO))) == 3
    assert chat_requests(url) == 2


def test_client_error_not_retried(responder: Callable[..., str], engine_for: Callable[..., OpenAIEngine]) -> None:
    url = responder("--status", "400")
    engine = engine_for(url, retries=3)
    with pytest.raises(InvalidInputError, match="responder: forced status 400"):
        engine.chat(HELLO)
    with pytest.raises(InvalidInputError, match="HTTP 400"):
        list(engine.stream(HELLO))
    assert chat_requests(url) == 2


def test_broken_stream_not_retried(responder: Callable[..., str], engine_for: Callable[..., OpenAIEngine]) -> None:
    url = responder("--cut-stream")
    got = []
    with pytest.raises(ServiceUnavailableError, match="broke off a stream after 1 chunks"):
        for chunk in engine_for(url, retries=3).stream(HELLO):
            got.append(chunk)
    assert len(got) == 1
    assert chat_requests(url) == 1


def test_retry_after_is_honoured(responder: Callable[..., str], engine_for: Callable[..., OpenAIEngine]) -> None:
    url = responder("--fail-first", "1", "--retry-after", "0.4")
    start = time.monotonic()
    engine_for(url, retries=1, backoff_s=0.001).chat(HELLO)
    assert time.monotonic() - start >= 0.4


def test_retry_after_is_capped(engine_for: Callable[..., OpenAIEngine], monkeypatch: pytest.MonkeyPatch) -> None:
    from animstudio.llm.engines import openai_compat

    spec = importlib.util.spec_from_file_location("responder", RESPONDER)   # the responder in this process
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    waits: list[float] = []
    monkeypatch.setattr(openai_compat.time, "sleep", waits.append)
    with module.serve_in_thread(fail_first=2, retry_after=3600) as url:
        assert engine_for(url, retries=2).chat(HELLO)["choices"][0]["message"]["content"] == "hello there"
    assert waits == [10.0, 10.0]


def test_connection_refused(engine_for: Callable[..., OpenAIEngine]) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"   # nothing listens there
    start = time.monotonic()
    with pytest.raises(ServiceUnavailableError) as info:
        engine_for(url, retries=2, backoff_s=0.01).chat(HELLO)
    assert time.monotonic() - start < 3
    assert url in str(info.value) and "3 tries" in str(info.value)
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    with pytest.raises(ServiceUnavailableError, match="127.0.0.1"):
        engine_for(url, retries=0).models()


# -- the responder speaks OpenAI's format -----------------------------------------------------------


def test_official_client_reads_the_responder(upstream: str) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=upstream, api_key="x", max_retries=0)
    try:
        out = client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "hi there"}])
        assert out.choices[0].message.content == "hi there" and out.model == "tiny"
        chunks = list(client.chat.completions.create(model="tiny", messages=[{"role": "user", "content": "hi"}],
                                                     stream=True, stream_options={"include_usage": True}))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "hi"
        assert [c.choices[0].finish_reason for c in chunks if c.choices] == [None, None, "stop"]
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 1
        assert [m.id for m in client.models.list()] == ["responder-echo"]
    finally:
        client.close()
