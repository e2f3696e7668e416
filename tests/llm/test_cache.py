"""The response cache: request keys, the memory LRU, the disk store and a real Redis server that is
killed, frozen and restarted under it."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from servers import REDIS_SERVER, RedisServer, free_port

from animstudio.errors import InvalidInputError
from animstudio.llm.base import chunks_of, completion
from animstudio.llm.gateway.cache import KEY_PREFIX, ResponseCache, cache_key


def _request(text: str = "Hi", **extra) -> dict:
    return {"model": "coder", "messages": [{"role": "user", "content": text}], "temperature": 0, **extra}


def _response(text: str = "Hello") -> dict:
    return {"kind": "response", "response": completion("coder", text)}


@pytest.fixture(scope="module")
def redis_server():
    if not Path(REDIS_SERVER).is_file():
        pytest.skip(f"redis-server not found at {REDIS_SERVER}; install it (apt-get install redis-server) "
                    "to run the Redis cache tests")
    server = RedisServer()
    server.start()
    yield server
    server.kill()


@pytest.fixture
def redis_live(redis_server: RedisServer) -> RedisServer:
    """The module's server, running and empty (a test before may have killed it)."""
    if not redis_server.running():
        redis_server.start()
    client = redis_server.client()
    client.flushdb()
    client.close()
    return redis_server


# -- keys ----------------------------------------------------------------------------------------


def test_key_ignores_key_order_and_delivery_fields():
    base = cache_key(_request())
    assert base is not None and len(base) == 64 and int(base, 16) >= 0
    reordered = {"temperature": 0, "messages": [{"content": "Hi", "role": "user"}], "model": "coder"}
    assert cache_key(reordered) == base
    assert cache_key(_request(stream=True, stream_options={"include_usage": True})) == base
    assert cache_key(_request(stream=False)) == base
    assert cache_key(_request(user="alice", metadata={"job": "7"}, store=True)) == base
    nested_a = _request(response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {
        "type": "object", "properties": {"a": {"type": "string"}}}}})
    nested_b = _request(response_format={"json_schema": {"schema": {"properties": {"a": {"type": "string"}},
                                                                    "type": "object"}, "name": "x"},
                                         "type": "json_schema"})
    assert cache_key(nested_a) == cache_key(nested_b) != base


def test_key_only_for_deterministic_requests():
    assert cache_key(_request(temperature=0.7)) is None
    assert cache_key({"model": "coder", "messages": [{"role": "user", "content": "Hi"}]}) is None  # default 1
    assert cache_key(_request(temperature=0.0)) == cache_key(_request())
    assert cache_key(_request(top_p=1.0)) == cache_key(_request(top_p=1)) != cache_key(_request(top_p=0.9))
    assert cache_key(_request(temperature=0.7, seed=42)) is not None
    assert cache_key(_request(seed=1)) != cache_key(_request(seed=2))
    assert cache_key(_request(n=2)) is None
    assert cache_key(_request(n=1)) is not None
    assert cache_key(_request(n=2, seed=3)) is not None
    assert cache_key(_request(temperature=False)) is None
    assert cache_key(_request(temperature=float("nan"), seed=1)) is None  # not JSON


def test_key_changes_with_what_changes_the_answer():
    base = cache_key(_request())
    assert cache_key(_request("Hello there")) != base
    assert cache_key({**_request(), "model": "writer"}) != base
    assert cache_key(_request(max_tokens=16)) != base


# -- memory and disk -----------------------------------------------------------------------------


def test_memory_lru_evicts_least_recently_used():
    cache = ResponseCache(max_items=2)
    assert cache.backend == "memory"
    cache.put("a", _response("A"))
    cache.put("b", _response("B"))
    assert cache.get("a")["response"]["choices"][0]["message"]["content"] == "A"   # a is now the newest
    cache.put("c", _response("C"))
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None
    assert cache.stats == {"hits": 3, "misses": 1, "errors": 0, "stores": 3}
    cache.close()


def test_get_returns_a_copy():
    cache = ResponseCache()
    cache.put("k", _response("A"))
    got = cache.get("k")
    got["response"]["choices"][0]["message"]["content"] = "changed"
    assert cache.get("k")["response"]["choices"][0]["message"]["content"] == "A"


def test_disk_store_survives_a_new_instance(tmp_path: Path):
    stream = {"kind": "stream", "chunks": list(chunks_of(completion("coder", "Hello")))}
    first = ResponseCache(directory=tmp_path / "cache")
    assert first.backend == "disk"
    response = _response("A")
    first.put("k1", response)
    first.put("k2", stream)
    first.close()
    assert not list((tmp_path / "cache").glob(".tmp-*"))
    second = ResponseCache(directory=tmp_path / "cache")
    assert second.get("k1") == response
    assert second.get("k2") == stream
    assert second.get("missing") is None
    assert ResponseCache().get("k1") is None   # memory only: nothing shared


def test_disk_entries_expire(tmp_path: Path):
    cache = ResponseCache(directory=tmp_path, ttl_s=1)
    cache.put("k", _response())
    assert cache.get("k") is not None
    assert len(list(tmp_path.glob("*.json"))) == 1
    time.sleep(1.1)
    assert ResponseCache(directory=tmp_path, ttl_s=1).get("k") is None   # from disk
    assert not list(tmp_path.glob("*.json"))                              # and deleted
    assert cache.get("k") is None                                         # the memory copy expired too


def test_disk_evicts_oldest_files_over_the_limit(tmp_path: Path):
    cache = ResponseCache(directory=tmp_path, max_items=0, max_disk_mb=1)
    big = "x" * 100_000
    for i in range(15):
        cache.put(f"k{i}", _response(f"{i}{big}"))
        time.sleep(0.01)   # distinct modification times
    assert sum(p.stat().st_size for p in tmp_path.glob("*.json")) <= 2**20
    fresh = ResponseCache(directory=tmp_path)
    assert fresh.get("k0") is None
    assert fresh.get("k14")["response"]["choices"][0]["message"]["content"].startswith("14")


def test_torn_file_is_a_miss_and_dropped(tmp_path: Path):
    cache = ResponseCache(directory=tmp_path)
    (tmp_path / "bad.json").write_text('{"expires": 9e99, "value": {"kind": "resp')
    assert cache.get("bad") is None
    assert not (tmp_path / "bad.json").exists()


def test_keys_cannot_escape_the_directory(tmp_path: Path):
    cache = ResponseCache(directory=tmp_path / "cache")
    cache.put("../../evil", _response())
    assert not (tmp_path / "evil.json").exists()
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1
    assert ResponseCache(directory=tmp_path / "cache").get("../../evil") is not None


def test_bad_values_and_settings():
    cache = ResponseCache()
    with pytest.raises(InvalidInputError):
        cache.put("k", {"choices": []})
    with pytest.raises(InvalidInputError):
        ResponseCache(ttl_s=-1)
    off = ResponseCache(ttl_s=0)   # 0: caching off
    off.put("k", _response())
    assert off.get("k") is None


def test_threads(tmp_path: Path):
    cache = ResponseCache(directory=tmp_path, max_items=8)
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(60):
                key = f"t{(n * 7 + i) % 20}"
                cache.put(key, _response(key))
                got = cache.get(key)
                assert got is None or got["response"]["choices"][0]["message"]["content"] == key
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    assert cache.stats["stores"] == 360 and cache.stats["hits"] + cache.stats["misses"] == 360
    assert cache.stats["errors"] == 0


# -- Redis ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "localhost:6379", "127.0.0.1"])
def test_bad_redis_url(url: str):
    with pytest.raises(InvalidInputError, match="redis://") as info:
        ResponseCache(redis_url=url)
    assert "\n" not in str(info.value)


def test_redis_round_trip(redis_live: RedisServer):
    cache = ResponseCache(redis_url=redis_live.url, ttl_s=600)
    assert cache.backend == "redis"
    stream = {"kind": "stream", "chunks": list(chunks_of(completion("coder", "Hello")))}
    key = cache_key(_request())
    cache.put(key, _response("A"))
    cache.put("s", stream)
    got = cache.get(key)
    assert got["kind"] == "response" and got["response"]["choices"][0]["message"]["content"] == "A"
    assert cache.get("s") == stream
    assert cache.get("missing") is None
    client = redis_live.client()
    raw = client.get(KEY_PREFIX + key)
    assert json.loads(raw) == got and b": " not in raw and b", " not in raw   # compact JSON
    assert 590 < client.ttl(KEY_PREFIX + key) <= 600
    client.close()
    assert cache.stats == {"hits": 2, "misses": 1, "errors": 0, "stores": 2}
    # another process (another cache instance) sees the same entries
    assert ResponseCache(redis_url=redis_live.url).get("s") == stream
    cache.close()


def test_redis_entries_expire(redis_live: RedisServer):
    cache = ResponseCache(redis_url=redis_live.url, ttl_s=1)
    cache.put("k", _response())
    assert cache.get("k") is not None
    time.sleep(1.1)
    assert cache.get("k") is None
    assert cache.stats["errors"] == 0
    cache.close()


def test_redis_down_at_start():
    port = free_port()   # nothing listens there
    cache = ResponseCache(redis_url=f"redis://127.0.0.1:{port}/0")
    started = time.monotonic()
    cache.put("k", _response())
    assert cache.get("k") is not None
    assert cache.get("other") is None
    assert time.monotonic() - started < 1
    assert cache.stats["errors"] == 1   # one failure, then Redis is left alone for a while
    cache.close()


def test_redis_killed_mid_run_then_restarted(redis_live: RedisServer, tmp_path: Path):
    cache = ResponseCache(directory=tmp_path, redis_url=redis_live.url)
    cache.put("before", _response("before"))
    assert cache.get("before") is not None
    assert not list(tmp_path.glob("*.json"))   # it went to Redis
    assert cache.stats["errors"] == 0

    redis_live.kill()
    started = time.monotonic()
    assert cache.get("before") is None          # Redis gone; the local store never had it
    assert cache.stats["errors"] == 1
    cache.put("during", _response("during"))   # to the local store
    assert cache.get("during")["response"]["choices"][0]["message"]["content"] == "during"
    assert len(list(tmp_path.glob("*.json"))) == 1
    for _ in range(50):                          # no reconnect per request
        cache.get("during")
    assert time.monotonic() - started < 1.5
    assert 1 <= cache.stats["errors"] <= 2

    redis_live.start()                           # same port
    client = redis_live.client()
    deadline = time.monotonic() + 6
    while not client.exists(KEY_PREFIX + "after"):
        assert time.monotonic() < deadline, "the cache did not go back to Redis within 6 s"
        cache.put("after", _response("after"))
        time.sleep(0.1)
    client.close()
    errors = cache.stats["errors"]
    assert cache.get("after") is not None
    assert cache.get("during") is not None       # stored locally while Redis was down: still served
    assert cache.stats["errors"] == errors
    cache.close()


def test_redis_frozen_times_out(redis_live: RedisServer):
    cache = ResponseCache(redis_url=redis_live.url)
    cache.put("k", _response())
    os.kill(redis_live.proc.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        assert cache.get("k") is None             # timed out: a miss, not an error for the caller
        cache.put("k2", _response())
        assert cache.get("k2") is not None
        assert time.monotonic() - started < 1.5
        assert cache.stats["errors"] == 1
    finally:
        os.kill(redis_live.proc.pid, signal.SIGCONT)
    cache.close()
