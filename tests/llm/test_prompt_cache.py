"""The embedded engine's prompt cache on disk, on a real model: a long system prompt read once is
not read again by a server loaded afterwards (another process's, or this one's after an unload)."""

from __future__ import annotations

import pytest

from animstudio.llm.engines.embedded import EmbeddedEngine

SYSTEM = "You plan the work of an animation studio. " + " ".join(
    f"Rule {i}: every shot of scene {i} keeps its palette and its camera." for i in range(60))


def ask(engine: EmbeddedEngine, question: str) -> dict:
    reply = engine.chat({"messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}],
                         "max_tokens": 4, "temperature": 0})
    return reply["timings"]


@pytest.fixture
def fresh(warehouse, studio_home, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(warehouse))

    def make() -> EmbeddedEngine:
        engine = EmbeddedEngine(model="smollm2-135m-instruct", threads=2, context=4096)
        return engine

    return make


def test_a_new_server_does_not_read_a_saved_prefix_again(fresh, studio_home):
    first = fresh()
    read = ask(first, "Which shot comes first?")["prompt_n"]
    assert read > 900                                              # the whole prefix, once
    saved = list((studio_home / "cache" / "prompts").glob("*.bin"))
    assert len(saved) == 1 and saved[0].stat().st_size > 1_000_000
    first.close()                                                  # the model is unloaded: a new server next
    again = fresh()
    assert ask(again, "And which one is last?")["prompt_n"] < 40    # only the new question is read
    assert ask(again, "Is the palette kept?")["prompt_n"] < 40
    again.close()


def test_the_cache_can_be_turned_off(fresh, studio_home, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_LLM__PROMPT_CACHE", "false")
    engine = fresh()
    assert ask(engine, "Which shot comes first?")["prompt_n"] > 900
    engine.close()
    assert not (studio_home / "cache" / "prompts").exists()


def test_a_stream_read_in_part_keeps_its_prefix(fresh, studio_home):
    """A reader that stops a streamed answer early (the agent's planner does) still leaves the prefix
    on disk, whole, for the next server; the next request on this one reads only its question."""
    engine = fresh()
    pieces = engine.stream({"messages": [{"role": "system", "content": SYSTEM},
                                         {"role": "user", "content": "List every rule."}],
                            "max_tokens": 64, "temperature": 0})
    read = [next(pieces) for _ in range(3)]
    pieces.close()
    assert read[-1]["timings"]["prompt_n"] > 900
    folder = studio_home / "cache" / "prompts"
    assert len(list(folder.glob("*.bin"))) == 1 and not list(folder.glob("*.part"))
    assert ask(engine, "And which one is last?")["prompt_n"] < 40
    engine.close()
    again = fresh()
    assert ask(again, "Is the palette kept?")["prompt_n"] < 40
    again.close()
