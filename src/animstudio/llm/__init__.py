"""LLMs: engines behind one interface, a typed client with schema-constrained output, and an
OpenAI-compatible gateway.

The public API; each name loads its module on first use, so importing the package costs nothing.

    from animstudio.llm import Client, engine
    client = Client(engine())                  # the configured engine: llm.default_model, llm.threads
    client.chat([{"role": "user", "content": "Name a colour"}], max_tokens=8)       # 'Blue'
    client.structured(messages, ShotPlan)                                            # a ShotPlan
"""

from __future__ import annotations

from animstudio.lazy import lazy_exports

_LAZY = {
    # engines
    "Engine": "base", "completion": "base", "text_of": "base", "chunks_of": "base", "check_request": "base",
    "engine": "client", "EmbeddedEngine": "engines.embedded", "check_model": "engines.embedded",
    "OpenAIEngine": "engines.openai_compat",
    # the client
    "Client": "client", "AsyncClient": "client", "StructuredOutputError": "client", "schema_format": "client",
    # embeddings, speed
    "Embedder": "embeddings", "bench_model": "bench", "bench_models": "bench",
    # the gateway
    "create_app": "gateway.app", "Route": "gateway.routing", "ResponseCache": "gateway.cache",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _LAZY)
