"""Routes: an alias served by one or more engines, tried in order, each behind a circuit breaker.

An engine that fails ``threshold`` times in a row is skipped for ``cooldown_s``; then one request
may try it again (half-open). A request goes to the first engine whose breaker lets it through;
an upstream that is down hands it to the next; when all fail, the error names each of them.

    route = Route("qwen", [OpenAIEngine(base_url=a), OpenAIEngine(base_url=b)])
    engine = next(route.candidates())
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from animstudio.llm.base import Engine


@dataclass
class Breaker:
    threshold: int = 3
    cooldown_s: float = 30.0
    failures: int = 0
    opened_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def allows(self) -> bool:
        with self.lock:
            if self.opened_at is None:
                return True
            if time.monotonic() - self.opened_at >= self.cooldown_s:
                self.opened_at = time.monotonic()   # half-open: this request tries, the next ones wait
                return True
            return False

    def succeeded(self) -> None:
        with self.lock:
            self.failures, self.opened_at = 0, None

    def failed(self) -> None:
        with self.lock:
            self.failures += 1
            if self.failures >= self.threshold:
                self.opened_at = time.monotonic()


class Route:
    def __init__(self, alias: str, engines: list[Engine], threshold: int = 3, cooldown_s: float = 30.0) -> None:
        self.alias = alias
        self.engines = engines
        self.breakers = [Breaker(threshold, cooldown_s) for _ in engines]

    def candidates(self) -> Iterator[tuple[Engine, Breaker]]:
        """Engines to try in order: closed breakers first; open ones only if nothing else is left."""
        ready = [(e, b) for e, b in zip(self.engines, self.breakers, strict=True) if b.allows()]
        yield from ready or list(zip(self.engines, self.breakers, strict=True))

    def describe(self, engine: Engine) -> str:
        base = getattr(engine, "base_url", None) or getattr(engine.options, "base_url", None)
        return base or f"{engine.name}:{engine.models()[0]}"
