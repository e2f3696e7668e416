"""LLMs: engines behind one interface, a typed client with schema-constrained output, and an
OpenAI-compatible gateway."""
