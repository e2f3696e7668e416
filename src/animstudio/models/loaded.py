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


class PerDevice(Generic[K, V]):
    """A kind of torch model that runs on CPU or a GPU: one :class:`LoadOnce` per device, held in RAM
    for "cpu" and on the GPU elsewhere (offloaded to page-locked RAM when the card is wanted).

        _nets = PerDevice(load_net, name=lambda key: f"net:{key[0]}:{key[1]}")
        with _nets.on("cuda").use((folder, "cuda")) as net: ...
    """

    def __init__(self, load: Callable[[K], V], name: Callable[[K], str] = str) -> None:
        self._load = load
        self.name = name
        self._loaders: dict[str, LoadOnce[K, V]] = {}

    def on(self, device: str) -> LoadOnce[K, V]:
        if device not in self._loaders:
            if device == "cpu":
                self._loaders[device] = LoadOnce(self._load, name=self.name)
            else:
                from animstudio.models.broker import torch_moves

                self._loaders[device] = LoadOnce(self._load, name=self.name, device="gpu", moves=torch_moves())
        return self._loaders[device]
