"""Who may call the gateway, and how often: API keys (compared in constant time) and a request
budget per key (or per client address when keys are off): a token bucket, kept in Redis when it
is configured so that every gateway process draws from the same one (updated atomically by a
small script), else in this process (also while Redis is away)."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from typing import Any

# KEYS[1] the bucket; ARGV rate per second, capacity, now (s). Refill, take one if there is one.
BUCKET_LUA = """
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local rate, cap, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens = tonumber(b[1]) or cap
local at = tonumber(b[2]) or now
tokens = math.min(cap, tokens + math.max(0, now - at) * rate)
local ok = 0
if tokens >= 1 then tokens = tokens - 1; ok = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(cap / rate) + 1)
return ok
"""


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
            name = f"animstudio:llm:bucket:{hashlib.sha256(who.encode()).hexdigest()[:24]}"
            try:
                return bool(self.redis.eval(BUCKET_LUA, 1, name, self.rate, self.burst, time.time()))
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
