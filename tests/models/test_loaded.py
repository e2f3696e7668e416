"""A kind of model loads once per key through the broker however many threads ask at once; a failed
load is tried again next time."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from animstudio.models.broker import broker
from animstudio.models.loaded import LoadOnce


def test_concurrent_callers_share_one_load_per_key_and_failures_are_retried():
    calls: list[str] = []
    gate = threading.Event()
    tag = uuid.uuid4().hex[:6]

    def load(key: str) -> object:
        calls.append(key)
        if key == "broken" and calls.count("broken") == 1:
            raise RuntimeError("missing weights")
        gate.wait(2)
        time.sleep(0.05)
        return object()

    models = LoadOnce(load, name=lambda key: f"test-{tag}-{key}", estimate=1000)

    def use(key: str) -> object:
        with models.use(key) as model:
            return model

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(use, key) for key in ["a", "b"] * 4]
        time.sleep(0.1)
        gate.set()
        got = [f.result() for f in futures]
    assert sorted(calls) == ["a", "b"]
    assert len({id(g) for g in got[0::2]}) == 1 and len({id(g) for g in got[1::2]}) == 1 and got[0] is not got[1]
    with pytest.raises(RuntimeError, match="missing weights"):
        use("broken")
    assert use("broken") is use("broken")   # tried again, then kept
    assert broker().unload(f"test-{tag}-a")
    use("a")
    assert calls.count("a") == 2
    for key in ("a", "b", "broken"):
        broker().unload(f"test-{tag}-{key}")
