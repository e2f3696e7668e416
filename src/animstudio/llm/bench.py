"""How fast the embedded engine reads prompts and writes tokens, per model, on this machine.

    for row in bench_models(["smollm2-135m-instruct"]): print(row)
    # {'model': 'smollm2-135m-instruct', 'prompt_tok_s': 312.9, 'gen_tok_s': 86.4, ...}
"""

from __future__ import annotations

from typing import Any

PROMPT = ("Here is a scene from an animated short. A rabbit wakes up in a meadow, stretches, and notices "
          "three butterflies circling a giant apple. ") * 6 + "Describe what happens next, shot by shot."


def bench_model(model: str, threads: int | None = None, max_tokens: int = 128, runs: int = 2) -> dict[str, Any]:
    """Best prompt and generation speed (tokens/s) over ``runs`` (the first also warms the model), on
    ``threads`` CPU threads (default: llm.threads)."""
    from animstudio.llm.engines.embedded import EmbeddedEngine

    engine = EmbeddedEngine(model=model, threads=threads, context=2048)
    engine.close()   # a server that read this prompt before would answer from its cache: start afresh
    best: dict[str, Any] = {"model": model, "prompt_tok_s": 0.0, "gen_tok_s": 0.0, "prompt_tokens": 0,
                            "gen_tokens": 0}
    try:
        for i in range(runs):
            # a different first word each run, so the prompt is read again rather than taken from llama.cpp's cache
            request = {"messages": [{"role": "user", "content": f"Run {i}. {PROMPT}"}], "max_tokens": max_tokens,
                       "temperature": 0, "ignore_eos": True}
            timings = engine.chat(request).get("timings") or {}
            best["prompt_tok_s"] = max(best["prompt_tok_s"], round(float(timings.get("prompt_per_second", 0)), 1))
            best["gen_tok_s"] = max(best["gen_tok_s"], round(float(timings.get("predicted_per_second", 0)), 1))
            best["prompt_tokens"] = int(timings.get("prompt_n", 0))
            best["gen_tokens"] = int(timings.get("predicted_n", 0))
    finally:
        engine.close()
    return best


def bench_models(models: list[str] | None = None, threads: int | None = None,
                 max_tokens: int = 128) -> list[dict[str, Any]]:
    """Every catalog LLM (or ``models``), one after another."""
    from animstudio.models.catalog import catalog

    names = models or [e.name for e in catalog() if e.kind == "llm"]
    return [bench_model(name, threads=threads, max_tokens=max_tokens) for name in names]
