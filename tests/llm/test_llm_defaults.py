"""The default LLM and its thread count are the settings llm.default_model and llm.threads, written once:
the embedded engine, the client, `llm chat` and `llm bench` all take them from there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import animstudio
from animstudio.config import LLMSettings
from conftest import run_cli

SMALL = "smollm2-135m-instruct"


@pytest.fixture
def small_default(warehouse, monkeypatch):
    pytest.importorskip("xllamacpp")
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(warehouse))
    monkeypatch.setenv("ANIMSTUDIO_LLM__DEFAULT_MODEL", SMALL)
    monkeypatch.setenv("ANIMSTUDIO_LLM__THREADS", "1")
    return warehouse


def test_the_engine_takes_model_and_threads_from_the_settings(small_default):
    from animstudio.llm import Client, EmbeddedEngine, engine
    from animstudio.media.ffmpeg import usable_cores

    configured = engine()
    assert isinstance(configured, EmbeddedEngine)
    assert (configured.models(), configured.threads) == ([SMALL], 1)
    assert Client(configured).chat([{"role": "user", "content": "Say hi."}], max_tokens=3, temperature=0)
    assert EmbeddedEngine(threads=2).threads == 2 and EmbeddedEngine(threads=0).threads == usable_cores()
    assert EmbeddedEngine.Options().model is None and EmbeddedEngine.Options().threads is None


def test_chat_and_bench_use_the_settings(small_default):
    chat = run_cli("llm", "chat", "Say hello.", "--max-tokens", "4", "--temperature", "0")
    assert chat.returncode == 0 and chat.stdout.strip(), chat.stderr
    bench = run_cli("llm", "bench", "-m", SMALL, "--max-tokens", "4", "--json")
    assert bench.returncode == 0, bench.stderr
    assert [row["model"] for row in json.loads(bench.stdout)] == [SMALL]
    for command in ("bench", "serve"):
        assert "llm.threads" in run_cli("llm", command, "--help").stdout


def test_the_default_llm_is_written_once():
    source = Path(animstudio.__file__).parent
    default = LLMSettings.model_fields["default_model"].default
    holders = sorted(str(p.relative_to(source)) for p in [*(source / "llm").rglob("*.py"), source / "cli" / "llm.py",
                                                          source / "config.py"]
                     if f'"{default}"' in p.read_text(encoding="utf-8"))
    assert holders == ["config.py"]
