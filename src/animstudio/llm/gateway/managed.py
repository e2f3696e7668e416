"""Managed upstreams: model servers the gateway starts on demand, held through the model broker.

Each has a command line (e.g. a ``vllm serve`` line) and the base URL it will answer on. The first
request starts it and waits until it answers. Its memory counts against the budget of the device it
runs on, beside every other model of every studio process: when another model needs the room, an
idle server is put to sleep (vLLM's sleep mode, where the server offers it: its weights wait in RAM
and it wakes in seconds) or stopped; after ``idle_s`` without requests it is stopped.

    manager = Manager()
    qwen = manager.add("qwen", "vllm serve Qwen/Qwen2.5-VL-7B-Instruct --port 8001", "http://127.0.0.1:8001/v1",
                       device="gpu", memory="18GB")
    qwen.chat({"messages": [...]})          # starts the server first if needed
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from animstudio.llm.base import Engine, Request, Response
from animstudio.models.broker import Broker
from animstudio.models.servers import Server


class Managed(Engine):
    """An upstream whose server process the gateway owns."""

    name = "managed"

    def __init__(self, alias: str, command: str, base_url: str, idle_s: float = 600.0, startup_s: float = 600.0,
                 device: str = "auto", memory: str | int | None = None, sleep: bool | None = None,
                 broker: Broker | None = None) -> None:
        super().__init__()
        from animstudio.llm.engines.openai_compat import OpenAIEngine

        self.alias = alias
        self.server = Server(alias, command, base_url, device=device, memory=memory, keep_alive_s=idle_s,
                             startup_s=startup_s, sleep=sleep, broker=broker)
        self.upstream = OpenAIEngine(base_url=self.server.url + "/v1", retries=0)

    @property
    def running(self) -> bool:
        return self.server.running

    def chat(self, request: Request) -> Response:
        with self.server.use():
            return self.upstream.chat(request)

    def stream(self, request: Request) -> Iterator[Response]:
        with self.server.use():
            yield from self.upstream.stream(request)

    def models(self) -> list[str]:
        return [self.alias]

    def close(self) -> None:
        self.server.stop()


class Manager:
    """The managed upstreams of one gateway."""

    def __init__(self, broker: Broker | None = None) -> None:
        self.broker = broker
        self.upstreams: dict[str, Managed] = {}

    def add(self, alias: str, command: str, base_url: str, **options: Any) -> Managed:
        managed = Managed(alias, command, base_url, broker=self.broker, **options)
        self.upstreams[alias] = managed
        return managed

    def running(self) -> list[str]:
        """The aliases whose servers are up (awake or asleep)."""
        return [a for a, m in self.upstreams.items() if m.running]

    def awake(self) -> list[str]:
        return [a for a, m in self.upstreams.items() if m.server.residency in ("gpu", "ram")]

    def close(self) -> None:
        for m in self.upstreams.values():
            m.close()
