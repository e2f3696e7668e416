"""The agent's tests: the test tools registered as a plugin, and a scripted LLM behind a client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import agent_tools
import pytest

from animstudio import plugins


@pytest.fixture
def test_tools(studio_home, monkeypatch, tmp_path):
    plugins.register_module(agent_tools, name="agent-test-tools")
    monkeypatch.chdir(tmp_path)
    ledger = tmp_path / "ledger.txt"
    monkeypatch.setenv("AGENT_TEST_LEDGER", str(ledger))
    return ledger


def plan_json(*steps: tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], list[int]], declined: str | None = None,
              intent: str = "test") -> str:
    return json.dumps({"intent": intent, "steps": [{"tool": s[0], "args": s[1], "after": s[2] if len(s) > 2 else []}
                                                  for s in steps],
                       "declined": declined, "confidence": 0.9})


@pytest.fixture
def scripted() -> Callable[[Callable[[dict[str, Any]], str]], Any]:
    """``scripted(script)``: a Client over the scripted engine (registered through the hooks)."""
    from animstudio.llm.client import Client
    from animstudio.testing import engines

    plugins.register_module(engines)

    def make(script: Callable[[dict[str, Any]], str]) -> Any:
        return Client(plugins.get_backend("llm_engine", "scripted")(script=script))

    return make
