"""Managed upstreams: model servers the gateway starts on demand and stops when idle.

Each has a command line (e.g. a ``vllm serve`` line) and the base URL it will answer on. The first
request starts it and waits for its health check; after ``idle_s`` without requests it is
stopped. Whether two can run at once is decided by a ``Placement`` — one small interface, so a
VRAM broker can take the decision later; the default runs one managed model at a time.

    manager = Manager()
    qwen = manager.add("qwen", "vllm serve Qwen/Qwen2.5-VL-7B-Instruct --port 8001", "http://127.0.0.1:8001/v1")
    qwen.chat({"messages": [...]})          # starts the server first if needed
"""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol

import httpx

from animstudio.errors import ServiceUnavailableError
from animstudio.llm.base import Engine, Request, Response


class Placement(Protocol):
    """Decides whether ``wanted`` may start while ``running`` are up."""

    def can_run_together(self, running: list[str], wanted: str) -> bool: ...


class OneAtATime:
    """One managed model server at a time (the safe default on one GPU)."""

    def can_run_together(self, running: list[str], wanted: str) -> bool:
        return not running


class Managed(Engine):
    """An upstream whose server process the gateway owns."""

    name = "managed"

    def __init__(self, alias: str, command: str, base_url: str, manager: Manager, idle_s: float = 600.0,
                 startup_s: float = 600.0) -> None:
        super().__init__()
        from animstudio.llm.engines.openai_compat import OpenAIEngine

        self.alias, self.command, self.base_url = alias, command, base_url.rstrip("/")
        self.manager, self.idle_s, self.startup_s = manager, idle_s, startup_s
        self.upstream = OpenAIEngine(base_url=self.base_url, retries=0)
        self.process: subprocess.Popen[bytes] | None = None
        self.last_used = 0.0
        self.lock = threading.Lock()
        self.active = 0   # requests being answered: never reaped meanwhile

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _healthy(self) -> bool:
        for path in ("/health", "/v1/models", "/models"):
            try:
                root = self.base_url.removesuffix("/v1") if path != "/models" else self.base_url
                if httpx.get(root + path, timeout=1).status_code == 200:
                    return True
            except httpx.HTTPError:
                continue
        return False

    def ensure(self) -> None:
        """Start the server (making room first) unless it runs; wait until it answers."""
        with self.lock:
            self.last_used = time.monotonic()
            if self.running:
                return
            self.manager.make_room(self)
            self.process = subprocess.Popen(shlex.split(self.command), stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL, start_new_session=True)
            deadline = time.monotonic() + self.startup_s
            while not self._healthy():
                if self.process.poll() is not None:
                    self.process = None
                    raise ServiceUnavailableError(f"managed model {self.alias!r} exited at start; run its command by "
                                                  f"hand to see why: {self.command}")
                if time.monotonic() > deadline:
                    self.stop()
                    raise ServiceUnavailableError(f"managed model {self.alias!r} did not answer within "
                                                  f"{self.startup_s:g} s at {self.base_url}")
                time.sleep(0.1)
            self.last_used = time.monotonic()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def chat(self, request: Request) -> Response:
        self.active += 1
        try:
            self.ensure()
            return self.upstream.chat(request)
        finally:
            self.active -= 1
            self.last_used = time.monotonic()

    def stream(self, request: Request) -> Iterator[Response]:
        self.active += 1
        try:
            self.ensure()
            yield from self.upstream.stream(request)
        finally:
            self.active -= 1
            self.last_used = time.monotonic()

    def models(self) -> list[str]:
        return [self.alias]

    def close(self) -> None:
        self.stop()


class Manager:
    """The managed upstreams of one gateway, their placement, and the idle reaper."""

    def __init__(self, placement: Placement | None = None, reap_every_s: float = 1.0) -> None:
        self.placement = placement or OneAtATime()
        self.upstreams: dict[str, Managed] = {}
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._reaper = threading.Thread(target=self._reap, args=(reap_every_s,), name="managed-reaper", daemon=True)
        self._reaper.start()

    def add(self, alias: str, command: str, base_url: str, **options: Any) -> Managed:
        managed = Managed(alias, command, base_url, self, **options)
        self.upstreams[alias] = managed
        return managed

    def running(self) -> list[str]:
        return [a for a, m in self.upstreams.items() if m.running]

    def make_room(self, wanted: Managed) -> None:
        """Stop the least recently used servers until ``wanted`` may run beside the rest."""
        with self.lock:
            while not self.placement.can_run_together(self.running(), wanted.alias):
                victims = sorted((m for m in self.upstreams.values() if m.running and m is not wanted),
                                 key=lambda m: m.last_used)
                if not victims:
                    break
                victims[0].stop()

    def _reap(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            now = time.monotonic()
            for m in list(self.upstreams.values()):
                if m.running and not m.active and now - m.last_used > m.idle_s and not m.lock.locked():
                    m.stop()

    def close(self) -> None:
        self._stop.set()
        for m in self.upstreams.values():
            m.stop()
