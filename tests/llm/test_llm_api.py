"""animstudio.llm's public API: cheap to import, every name resolves to what it names."""

from __future__ import annotations

from public_api import assert_lazy_api


def test_the_llm_api_is_lazy_and_whole():
    api = assert_lazy_api("animstudio.llm", heavy=("numpy", "fastapi", "httpx", "xllamacpp"))
    from animstudio.llm.client import Client, engine

    assert api.Client is Client and api.engine is engine
    assert {"EmbeddedEngine", "OpenAIEngine", "StructuredOutputError", "create_app"} <= set(api.__all__)
