"""Models loaded once and shared in the process: the first caller of a key loads it while later
callers of the same key wait for it; other keys load at the same time. A failed load is not kept,
so the next call tries again (after the user installs what was missing, say).

    _whisper = LoadOnce(lambda key: WhisperModel(*key))
    model = _whisper.get(("base", 4, "int8"))
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LoadOnce(Generic[K, V]):
    def __init__(self, load: Callable[[K], V]) -> None:
        self._load = load
        self._loaded: dict[K, V] = {}
        self._locks: dict[K, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: K) -> V:
        if key in self._loaded:
            return self._loaded[key]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._loaded:
                self._loaded[key] = self._load(key)
            return self._loaded[key]

    def loaded(self) -> list[K]:
        return list(self._loaded)

    def forget(self, key: K | None = None) -> None:
        """Drop one loaded model (or all): the next ``get`` loads it again."""
        with self._guard:
            if key is None:
                self._loaded.clear()
            else:
                self._loaded.pop(key, None)
