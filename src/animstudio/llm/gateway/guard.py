"""Who may call the gateway, and how often: API keys (compared in constant time) and a request
budget per key (or per client address when keys are off): a token bucket in this process, or,
when Redis is configured, a per-minute count in Redis that every gateway process shares (if Redis
fails, the local bucket takes over)."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from typing import Any


class Guard:
    def __init__(self, api_keys: list[str], requests_per_minute: int = 0, redis_url: str | None = None) -> None:
        self.keys = [k.encode() for k in api_keys if k]
        self.per_minute = requests_per_minute
        self.redis: Any = None
        self.redis_down_until = 0.0
        if redis_url and requests_per_minute > 0:
            import redis

            self.redis = redis.Redis.from_url(redis_url, socket_connect_timeout=0.2, socket_timeout=0.2)
        self.rate = requests_per_minute / 60.0
        self.burst = max(1.0, float(requests_per_minute))
        self.buckets: dict[str, tuple[float, float]] = {}   # who -> (tokens, last refill)
        self.lock = threading.Lock()

    def key_of(self, authorization: str | None) -> str | None:
        """The caller's key when it is one of ours, else None (always '' when keys are off)."""
        if not self.keys:
            return ""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        given = token.strip().encode()
        found = None
        for key in self.keys:   # look at every key: the time taken does not tell which one matched
            if hmac.compare_digest(given, key):
                found = key.decode()
        return found

    def admit(self, who: str) -> bool:
        """Count one request for ``who``; False when over the budget."""
        if self.rate <= 0:
            return True
        if self.redis is not None and time.monotonic() >= self.redis_down_until:
            minute = int(time.time() // 60)
            name = f"animstudio:llm:rate:{hashlib.sha256(who.encode()).hexdigest()[:16]}:{minute}"
            try:
                pipe = self.redis.pipeline()
                pipe.incr(name)
                pipe.expire(name, 61)
                count = pipe.execute()[0]
                return int(count) <= self.per_minute
            except Exception:  # noqa: BLE001 - Redis away: this process counts alone for a while
                self.redis_down_until = time.monotonic() + 5
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(who, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self.buckets[who] = (tokens, now)
                return False
            self.buckets[who] = (tokens - 1, now)
            return True
