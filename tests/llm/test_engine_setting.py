"""The configured engine can be any registered one, a plugin's included (llm.engine)."""

from __future__ import annotations

import pytest

from animstudio import plugins
from animstudio.errors import UnknownBackendError
from animstudio.llm.client import Client, engine
from animstudio.testing import engines


def test_llm_engine_names_the_engine_the_client_uses(monkeypatch):
    plugins.register_module(engines, name="scripted-engine")
    monkeypatch.setenv("ANIMSTUDIO_LLM__ENGINE", "scripted")
    chosen = engine(replies=["a scripted answer"])
    assert isinstance(chosen, engines.ScriptedEngine)
    assert Client(chosen).chat([{"role": "user", "content": "hi"}]) == "a scripted answer"
    monkeypatch.setenv("ANIMSTUDIO_LLM__ENGINE", "nope")
    with pytest.raises(UnknownBackendError, match="no llm engine called 'nope'; known: embedded, openai, scripted"):
        engine()
