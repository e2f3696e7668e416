"""Who may call the gateway, and how often: API keys (compared in constant time) and a token
bucket per key (or per client address when keys are off)."""

from __future__ import annotations

import hmac
import threading
import time


class Guard:
    def __init__(self, api_keys: list[str], requests_per_minute: int = 0) -> None:
        self.keys = [k.encode() for k in api_keys if k]
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
        """Take one token from ``who``'s bucket; False when it is empty."""
        if self.rate <= 0:
            return True
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(who, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self.buckets[who] = (tokens, now)
                return False
            self.buckets[who] = (tokens - 1, now)
            return True
