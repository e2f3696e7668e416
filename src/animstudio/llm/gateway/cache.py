"""A response cache for deterministic chat requests (temperature 0, or a seed).

    key = cache_key(request)                    # None: the answer may differ each time, don't cache
    cache = ResponseCache(directory=home / "llm-cache")   # or ResponseCache(redis_url="redis://...")
    if key and (hit := cache.get(key)):
        ...    # {"kind": "response", "response": {...}} or {"kind": "stream", "chunks": [...]}
    cache.put(key, {"kind": "response", "response": reply})

With a Redis URL the entries live in Redis (``animstudio:llm:KEY``, compact JSON, ``EX ttl``). A Redis
that is down, or dies mid-run, never fails a request: the call falls back to the local store, the
failure is counted in ``stats["errors"]`` and Redis is tried again only every few seconds. Without
Redis, an in-process LRU sits in front of an on-disk store (one JSON file per key); with neither a
Redis URL nor a directory the cache lives in memory only. ``ttl_s=0`` turns caching off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from animstudio.errors import InvalidInputError, MissingDependencyError

log = logging.getLogger(__name__)

KEY_PREFIX = "animstudio:llm:"
KINDS = ("response", "stream")
# Request fields that change how the answer is delivered or logged, not what it says.
IGNORED_FIELDS = frozenset({"stream", "stream_options", "user", "metadata", "store"})
REDIS_SCHEMES = ("redis", "rediss", "unix")
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _canonical(value: Any) -> Any:
    """``0.0`` and ``0`` (``1.0`` and ``1``) are the same number to an API: one spelling for both."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def cache_key(request: dict) -> str | None:
    """sha256 hex of the normalised request, or None when the request is not deterministic.

    Cacheable: a ``seed`` is given, or ``temperature`` is 0 (OpenAI's default is 1) and ``n`` is 1.
    Normalised: ``stream``, ``stream_options``, ``user``, ``metadata`` and ``store`` dropped, keys
    sorted at every level, integral floats written as integers, compact JSON. The model alias stays in."""
    if not isinstance(request, dict):
        return None
    seeded = request.get("seed") is not None
    temperature = request.get("temperature")
    n = request.get("n")
    if not seeded:
        if not (_number(temperature) and temperature == 0):
            return None
        if n is not None and not (_number(n) and n == 1):
            return None
    normalised = _canonical({k: v for k, v in request.items() if k not in IGNORED_FIELDS})
    try:
        text = _dumps(normalised)
    except (TypeError, ValueError):   # not JSON (a NaN, an object): not something to cache
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_redis_url(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in REDIS_SCHEMES:
        raise InvalidInputError(f"{url!r} is not a Redis URL; use redis://HOST:6379/0, rediss://HOST:6380/0 "
                                "or unix:///path/to/redis.sock (or leave it unset for the local cache)")


class ResponseCache:
    """Cached replies by :func:`cache_key`; thread-safe; see the module docstring."""

    REDIS_TIMEOUT_S = 0.2      # connect and read
    REDIS_RETRY_S = 2.0        # after a failure, Redis is left alone this long
    DISK_EVICT_TO = 0.9        # when over max_disk_mb, evict down to this share of it

    def __init__(self, directory: Path | None = None, redis_url: str | None = None, ttl_s: int = 7 * 24 * 3600,
                 max_items: int = 2048, max_disk_mb: int = 512) -> None:
        if ttl_s < 0:
            raise InvalidInputError(f"ttl_s={ttl_s} is negative; pass 0 (no caching) or a number of seconds")
        if max_items < 0 or max_disk_mb < 0:
            raise InvalidInputError("max_items and max_disk_mb cannot be negative; pass 0 or more")
        self.ttl_s = int(ttl_s)
        self.max_items = int(max_items)
        self.max_disk_bytes = int(max_disk_mb) * 2**20
        self.stats: dict[str, int] = {"hits": 0, "misses": 0, "errors": 0, "stores": 0}
        self._lock = threading.Lock()           # the LRU and the stats
        self._disk_lock = threading.Lock()      # the running disk total and eviction
        self._redis_lock = threading.Lock()     # the Redis up/down state
        self._memory: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._disk_bytes: int | None = None     # counted on first write
        self._redis: Any = None
        self._redis_errors: tuple[type[BaseException], ...] = (OSError,)
        self._redis_down_until = 0.0
        self._redis_down = False

        self.directory = Path(directory).expanduser() if directory is not None else None
        if self.directory is not None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InvalidInputError(f"cannot create the cache folder {self.directory} ({exc.strerror or exc}); "
                                        "pass a writable folder") from exc
            if not self.directory.is_dir():
                raise InvalidInputError(f"{self.directory} is not a folder; pass a folder for the response cache")

        if redis_url is not None and redis_url.strip():
            self._redis = self._connect(redis_url.strip())

    # -- backends ------------------------------------------------------------------------------

    @property
    def backend(self) -> str:
        """Where entries go: ``redis``, ``disk`` or ``memory``."""
        if self._redis is not None:
            return "redis"
        return "disk" if self.directory is not None else "memory"

    def _connect(self, url: str) -> Any:
        _check_redis_url(url)
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError as exc:
            raise MissingDependencyError.for_extra("redis", "llm", "The Redis response cache") from exc
        try:
            client = redis.Redis.from_url(
                url, socket_connect_timeout=self.REDIS_TIMEOUT_S, socket_timeout=self.REDIS_TIMEOUT_S,
                retry=Retry(NoBackoff(), 0), retry_on_timeout=False, health_check_interval=0)
        except ValueError as exc:
            raise InvalidInputError(f"{url!r} is not a valid Redis URL ({exc}); use redis://HOST:6379/0, "
                                    "rediss://HOST:6380/0 or unix:///path/to/redis.sock") from exc
        self._redis_errors = (redis.exceptions.RedisError, OSError)
        return client

    def _redis_client(self) -> Any:
        """The Redis client to try for this call, or None (no Redis, or it failed a moment ago)."""
        client = self._redis
        if client is None:
            return None
        with self._redis_lock:
            now = time.monotonic()
            if now < self._redis_down_until:
                return None
            if self._redis_down:   # this call probes; the others keep to the local store meanwhile
                self._redis_down_until = now + self.REDIS_RETRY_S
            return client

    def _redis_failed(self, client: Any, exc: BaseException) -> None:
        with self._lock:
            self.stats["errors"] += 1
        with self._redis_lock:
            self._redis_down_until = time.monotonic() + self.REDIS_RETRY_S
            first = not self._redis_down
            self._redis_down = True
        if first:
            log.warning("Redis response cache unavailable (%s); using the local cache, retrying every %.0f s",
                        exc, self.REDIS_RETRY_S)
        try:   # drop sockets that may be half dead, so the next try connects afresh
            client.connection_pool.disconnect()
        except Exception:  # noqa: BLE001 - best effort on a broken connection
            pass

    def _redis_ok(self) -> None:
        if self._redis_down:
            with self._redis_lock:
                self._redis_down = False
            log.info("Redis response cache reachable again")

    # -- public API ----------------------------------------------------------------------------

    def get(self, key: str) -> dict | None:
        """The cached value of ``key`` ({"kind": "response" | "stream", ...}), or None."""
        value = None
        client = self._redis_client()
        if client is not None:
            try:
                raw = client.get(KEY_PREFIX + key)
            except self._redis_errors as exc:
                self._redis_failed(client, exc)
            else:
                self._redis_ok()
                if raw is not None:
                    value = self._decode(raw)
        if value is None:   # Redis down or missing it (it may have been stored while Redis was down)
            value = self._local_get(key)
        with self._lock:
            self.stats["hits" if value is not None else "misses"] += 1
        return value

    def put(self, key: str, value: dict) -> None:
        """Store ``value`` under ``key`` for ``ttl_s`` seconds."""
        if not isinstance(value, dict) or value.get("kind") not in KINDS:
            raise InvalidInputError('a cache value is {"kind": "response", "response": {...}} or '
                                    '{"kind": "stream", "chunks": [...]}')
        try:
            text = _dumps(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"a cache value must be plain JSON ({exc})") from exc
        if self.ttl_s == 0:
            return
        stored = False
        client = self._redis_client()
        if client is not None:
            try:
                client.set(KEY_PREFIX + key, text, ex=self.ttl_s)
            except self._redis_errors as exc:
                self._redis_failed(client, exc)
            else:
                self._redis_ok()
                stored = True
        if not stored:
            self._local_put(key, text)
        with self._lock:
            self.stats["stores"] += 1

    def clear(self) -> None:
        """Forget the local entries (memory and disk); Redis entries expire on their own."""
        with self._lock:
            self._memory.clear()
        if self.directory is not None:
            with self._disk_lock:
                for path in self.directory.glob("*.json"):
                    path.unlink(missing_ok=True)
                self._disk_bytes = None

    def close(self) -> None:
        """Close the Redis connections; the local store keeps answering."""
        client, self._redis = self._redis, None
        if client is not None:
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing a dead connection
                pass

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- local store: LRU in memory, then disk -------------------------------------------------

    @staticmethod
    def _decode(raw: bytes | str) -> dict | None:
        try:
            value = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return None
        return value if isinstance(value, dict) and value.get("kind") in KINDS else None

    def _local_get(self, key: str) -> dict | None:
        now = time.time()
        with self._lock:
            entry = self._memory.get(key)
            if entry is not None:
                if entry[0] > now:
                    self._memory.move_to_end(key)
                    text = entry[1]
                else:
                    del self._memory[key]
                    entry = None
        if entry is not None:
            return json.loads(text)
        if self.directory is None:
            return None
        path = self._path(key)
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            expires, value = float(stored["expires"]), stored["value"]
        except FileNotFoundError:
            return None
        except OSError:
            with self._lock:
                self.stats["errors"] += 1
            return None
        except (ValueError, KeyError, TypeError):   # a torn or foreign file: drop it
            path.unlink(missing_ok=True)
            return None
        if expires <= now:
            path.unlink(missing_ok=True)
            return None
        if not isinstance(value, dict) or value.get("kind") not in KINDS:
            return None
        self._remember(key, expires, _dumps(value))
        return value

    def _local_put(self, key: str, text: str) -> None:
        expires = time.time() + self.ttl_s
        self._remember(key, expires, text)
        if self.directory is not None:
            try:
                self._disk_put(key, expires, text)
            except OSError as exc:   # a full or read-only disk: the memory copy still serves
                log.warning("response cache: cannot write to %s (%s)", self.directory, exc)
                with self._lock:
                    self.stats["errors"] += 1

    def _remember(self, key: str, expires: float, text: str) -> None:
        if self.max_items == 0:
            return
        with self._lock:
            self._memory[key] = (expires, text)
            self._memory.move_to_end(key)
            while len(self._memory) > self.max_items:
                self._memory.popitem(last=False)

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        name = key if _SAFE_NAME.fullmatch(key) else hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.directory / f"{name}.json"

    def _disk_put(self, key: str, expires: float, text: str) -> None:
        assert self.directory is not None
        data = ('{"expires":' + repr(expires) + ',"key":' + json.dumps(key) + ',"value":' + text + "}").encode()
        if len(data) > self.max_disk_bytes:
            return   # larger than the whole store (or max_disk_mb=0): memory only
        path = self._path(key)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            try:
                old = path.stat().st_size
            except FileNotFoundError:
                old = 0
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        with self._disk_lock:
            if self._disk_bytes is None:
                self._disk_bytes = self._scan_size()
            else:
                self._disk_bytes += len(data) - old
            if self._disk_bytes > self.max_disk_bytes:
                self._evict()

    def _scan_size(self) -> int:
        assert self.directory is not None
        total = 0
        for path in self.directory.glob("*.json"):
            try:
                total += path.stat().st_size
            except FileNotFoundError:
                pass
        return total

    def _evict(self) -> None:
        """Delete the oldest files until the store is under DISK_EVICT_TO of its size."""
        assert self.directory is not None
        files = []
        for path in self.directory.glob("*.json"):
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            files.append((st.st_mtime, st.st_size, path))
        files.sort()
        total = sum(size for _, size, _ in files)
        target = self.max_disk_bytes * self.DISK_EVICT_TO
        for _, size, path in files:
            if total <= target:
                break
            path.unlink(missing_ok=True)
            total -= size
        self._disk_bytes = total
