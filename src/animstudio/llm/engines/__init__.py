"""Built-in LLM engines, registered through the `register_llm_engines` hook."""

from animstudio.hookspecs import hookimpl


@hookimpl
def register_llm_engines(register) -> None:  # type: ignore[no-untyped-def]
    from animstudio.llm.engines.embedded import EmbeddedEngine
    from animstudio.llm.engines.openai_compat import OpenAIEngine

    register(EmbeddedEngine)
    register(OpenAIEngine)
