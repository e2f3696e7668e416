"""A kind of model the broker loads: how to load one (by key), and the name the broker and the
ledger know it by. ``use(key)`` loads it once (later callers share it) and pins it while in use;
the broker unloads it when it is idle and the memory is wanted, or after its keep-alive.

    _whisper = LoadOnce(lambda key: WhisperModel(*key), name=lambda key: f"{key[0]}:{key[2]}")
    with _whisper.use(("whisper-base", 4, "int8")) as model:
        model.transcribe(...)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from animstudio.models.broker import Moves

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LoadOnce(Generic[K, V]):
    def __init__(self, load: Callable[[K], V], name: Callable[[K], str] = str, device: str = "ram",
                 estimate: int | None = None, priority: int = 0, moves: Moves | None = None) -> None:
        self._load = load
        self.moves = moves
        self.name = name
        self.device = device
        self.estimate = estimate
        self.priority = priority

    def use(self, key: K) -> AbstractContextManager[V]:
        """The model for ``key``, loaded through the broker if it is not held, pinned while in use."""
        from animstudio.models.broker import DROP, broker

        return broker().use(self.name(key), lambda: self._load(key), device=self.device,  # type: ignore[arg-type]
                            estimate=self.estimate, priority=self.priority, moves=self.moves or DROP)
