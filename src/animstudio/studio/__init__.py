"""Creative jobs: pipelines that put analysis, LLM, voices and editing together, as durable jobs."""
