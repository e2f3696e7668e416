"""A model is loaded once per key however many threads ask for it at the same time."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from animstudio.models.loaded import LoadOnce


def test_concurrent_callers_share_one_load_per_key_and_failures_are_retried():
    calls: list[str] = []
    gate = threading.Event()

    def load(key: str) -> object:
        calls.append(key)
        if key == "broken" and calls.count("broken") == 1:
            raise RuntimeError("missing weights")
        gate.wait(2)
        time.sleep(0.05)
        return object()

    models = LoadOnce(load)
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(models.get, key) for key in ["a", "b"] * 4]
        time.sleep(0.1)
        gate.set()
        got = [f.result() for f in futures]
    assert sorted(calls) == ["a", "b"]
    assert len({id(g) for g in got[0::2]}) == 1 and len({id(g) for g in got[1::2]}) == 1 and got[0] is not got[1]
    with pytest.raises(RuntimeError, match="missing weights"):
        models.get("broken")
    assert models.get("broken") is models.get("broken")   # tried again, then kept
    models.forget("a")
    models.get("a")
    assert calls.count("a") == 2 and set(models.loaded()) == {"a", "b", "broken"}
