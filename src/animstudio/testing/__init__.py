"""Helpers that tests, benchmarks and plugin authors share: real servers on free loopback ports and
a scripted LLM engine. Nothing here imports pytest, so a benchmark runs with a plain interpreter.

    from animstudio.testing.servers import running_gateway, running_responder
    with running_responder() as upstream, running_gateway("--upstream", f"echo={upstream}@echo") as gateway:
        ...

- :mod:`animstudio.testing.servers`: ``free_port``, ``running_process``, ``running_responder``, ``running_gateway``
- :mod:`animstudio.testing.responder`: the tiny OpenAI-compatible upstream (a process or a thread)
- :mod:`animstudio.testing.engines`: ``ScriptedEngine``, registered with ``plugins.register_module``
"""
