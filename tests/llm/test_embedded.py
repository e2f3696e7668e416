"""The embedded engine on a real catalog model: chat, streaming, schema-constrained output."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from animstudio.errors import InvalidInputError
from animstudio.llm.client import AsyncClient, Client, engine


class Character(BaseModel):
    name: str = Field(min_length=1)
    age: int
    catchphrase: str


@pytest.fixture(scope="module")
def client(warehouse):
    import os

    os.environ["ANIMSTUDIO_MODELS"] = str(warehouse)
    try:
        eng = engine("embedded", model="smollm2-135m-instruct", threads=2, context=2048)
    finally:
        os.environ.pop("ANIMSTUDIO_MODELS", None)
    return Client(eng)


def test_chat_and_usage(client):
    counted = Client(client.engine)   # usage of these two requests alone
    first = counted.complete([{"role": "user", "content": "Say hello."}], max_tokens=12, temperature=0)
    again = counted.chat([{"role": "user", "content": "Say hello."}], max_tokens=12, temperature=0)
    assert again == first["choices"][0]["message"]["content"]   # temperature 0 is deterministic
    assert first["choices"][0]["finish_reason"] == "length" and first["model"] == "smollm2-135m-instruct"
    # the chat template around "Say hello." is 33 tokens; each answer is cut at max_tokens
    assert first["usage"] == {**first["usage"], "prompt_tokens": 33, "completion_tokens": 12, "total_tokens": 45}
    assert counted.usage == {"prompt_tokens": 66, "completion_tokens": 24, "total_tokens": 90, "requests": 2}


def test_stream_matches_the_whole_answer(client):
    whole = client.chat([{"role": "user", "content": "Count to five."}], max_tokens=20, temperature=0)
    pieces = list(client.stream([{"role": "user", "content": "Count to five."}], max_tokens=20, temperature=0))
    assert len(pieces) > 3 and "".join(pieces) == whole


def test_structured_output_fits_the_schema(client):
    counted = Client(client.engine)
    character = counted.structured([{"role": "user", "content": "Invent a cartoon rabbit."}], Character)
    assert isinstance(character, Character)
    assert counted.usage["requests"] == 1   # constrained decoding: the first answer fits, no repair was asked
    again = counted.structured([{"role": "user", "content": "Invent a cartoon rabbit."}], Character)
    assert again == character and counted.usage["requests"] == 2


def test_async_client(client):
    import asyncio

    async def run():
        aclient = AsyncClient(client.engine)
        text = await aclient.chat([{"role": "user", "content": "Say hello."}], max_tokens=8, temperature=0)
        pieces = [p async for p in aclient.stream([{"role": "user", "content": "Say hello."}], max_tokens=8,
                                                  temperature=0)]
        return text, pieces

    text, pieces = asyncio.run(run())
    assert text == client.chat([{"role": "user", "content": "Say hello."}], max_tokens=8, temperature=0)
    assert len(pieces) > 1 and "".join(pieces) == text


def test_images_and_bad_requests_are_refused(client):
    with pytest.raises(InvalidInputError, match="text only"):
        client.chat([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]}])
    with pytest.raises(InvalidInputError, match="messages"):
        client.engine.chat({"messages": []})


def test_bench_reports_speeds(warehouse, monkeypatch):
    from animstudio.llm.bench import bench_model

    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(warehouse))
    row = bench_model("smollm2-135m-instruct", threads=2, max_tokens=16, runs=1)
    assert row["prompt_tokens"] == 211 and row["gen_tokens"] == 16   # the whole prompt read; ignore_eos: max_tokens
    assert row["prompt_tok_s"] > 0 and row["gen_tok_s"] > 0
