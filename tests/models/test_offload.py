"""Offload to RAM: an idle GPU model whose kind can move goes to RAM to make room and comes back on its
next use without being loaded again; a kind that cannot move is unloaded; a full RAM budget means
unloading too. On CPU the moves are plain functions (the logic is the claim); on a CUDA GPU the same
checks run with real torch modules and real allocations."""

from __future__ import annotations

import numpy as np
import pytest

from animstudio.models.broker import Broker, Moves, torch_moves
from animstudio.models.ledger import Ledger

MB = 1 << 20


@pytest.fixture
def make(tmp_path):
    made = []

    def make(gpu_mb: int, ram_mb: int = 4096) -> Broker:
        b = Broker(ram_budget=ram_mb * MB, gpu_budget=gpu_mb * MB, keep_alive_s=0, wait_s=0.3,
                   ledger=Ledger(tmp_path / f"ledger{len(made)}.sqlite", heartbeat_s=0.2),
                   sizes_file=tmp_path / "sizes.json")
        made.append(b)
        return b

    yield make
    for b in made:
        b.free()
        b.close()


class Weights:
    """A stand-in model whose moves are recorded (the broker's decisions are what is checked)."""

    def __init__(self) -> None:
        self.where = "gpu"
        self.data = np.ones(MB, np.uint8)


MOVES = Moves(to_ram=lambda m: (setattr(m, "where", "ram"), m)[1], to_gpu=lambda m: (setattr(m, "where", "gpu"), m)[1])


def residency(b: Broker) -> dict[str, str]:
    return {m["name"]: m["residency"] for m in b.status()["models"]}


def test_idle_gpu_models_are_offloaded_and_brought_back_without_a_reload(make):
    b = make(gpu_mb=250)
    loads: list[str] = []

    def loader(name):
        def load():
            loads.append(name)
            return Weights()
        return load

    for name in ("a", "b"):
        with b.use(name, loader(name), device="gpu", estimate=100 * MB, moves=MOVES):
            pass
    with b.use("c", loader("c"), device="gpu", estimate=100 * MB, moves=MOVES) as c:
        assert c.where == "gpu"
        assert residency(b) == {"a": "offloaded to ram", "b": "gpu", "c": "gpu"}   # a was least recently used
    held = {(h.model, h.device) for h in b.ledger.holdings()}
    assert held == {("a", "ram"), ("b", "gpu"), ("c", "gpu")}
    with b.use("a", loader("a"), device="gpu", estimate=100 * MB, moves=MOVES) as a:
        assert a.where == "gpu"
        assert residency(b) == {"a": "gpu", "b": "offloaded to ram", "c": "gpu"}
    assert loads == ["a", "b", "c"]             # nothing was loaded twice
    counters = b.status()["counters"]
    assert counters["offloads"] == 2 and counters["restores"] == 1 and counters["unloads"] == 0


def test_kinds_that_cannot_move_and_a_full_ram_budget_mean_unloading(make):
    b = make(gpu_mb=250, ram_mb=50)          # RAM cannot take a 100 MB model
    with b.use("a", Weights, device="gpu", estimate=100 * MB, moves=MOVES):
        pass
    with b.use("server", Weights, device="gpu", estimate=100 * MB):   # no moves: a llama.cpp model, say
        pass
    with b.use("c", Weights, device="gpu", estimate=100 * MB, moves=MOVES):
        assert residency(b) == {"server": "gpu", "c": "gpu"}   # a could not go to RAM, so it was unloaded
    b2 = make(gpu_mb=250)
    with b2.use("server", Weights, device="gpu", estimate=100 * MB):
        pass
    with b2.use("x", Weights, device="gpu", estimate=100 * MB, moves=MOVES):
        pass
    with b2.use("y", Weights, device="gpu", estimate=100 * MB, moves=MOVES):
        assert residency(b2) == {"x": "gpu", "y": "gpu"}      # the server could not move: unloaded


def test_a_move_that_declines_means_unloading(make):
    b = make(gpu_mb=150)
    declines = Moves(to_ram=lambda m: None, to_gpu=lambda m: m)   # a server without sleep mode, say
    with b.use("a", Weights, device="gpu", estimate=100 * MB, moves=declines):
        pass
    with b.use("b", Weights, device="gpu", estimate=100 * MB, moves=declines):
        assert residency(b) == {"b": "gpu"}


def test_release_runs_when_a_model_is_unloaded(make):
    b = make(gpu_mb=150)
    released = []
    with b.use("a", Weights, device="gpu", estimate=100 * MB, moves=Moves(release=released.append)) as a:
        pass
    with b.use("b", Weights, device="gpu", estimate=100 * MB):
        pass
    assert released == [a]


def test_offloaded_models_leave_ram_when_ram_is_wanted(make):
    b = make(gpu_mb=150, ram_mb=150)
    for name in ("a", "b"):
        with b.use(name, Weights, device="gpu", estimate=100 * MB, moves=MOVES):
            pass
    assert residency(b) == {"a": "offloaded to ram", "b": "gpu"}
    with b.use("cpu-model", lambda: np.ones(100 * MB, np.uint8), estimate=100 * MB):
        assert residency(b) == {"b": "gpu", "cpu-model": "ram"}


@pytest.mark.gpu
def test_torch_modules_are_offloaded_to_ram_for_real(make):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU on this machine")

    def module():
        return torch.nn.Linear(8192, 8192, bias=False, device="cuda")   # 256 MB of float32 weights

    b = make(gpu_mb=700)
    for name in ("a", "b"):
        with b.use(name, module, device="gpu", moves=torch_moves()):
            pass
    sizes = {m["name"]: m["bytes"] for m in b.status()["models"]}
    assert all(250 * MB <= s <= 400 * MB for s in sizes.values()), sizes   # measured by torch
    before = torch.cuda.memory_allocated()
    with b.use("c", module, device="gpu", moves=torch_moves()) as c:
        assert residency(b)["a"] == "offloaded to ram"
        assert torch.cuda.memory_allocated() <= before + 64 * MB     # a's weights left the card
        assert c.weight.device.type == "cuda"
    with b.use("a", module, device="gpu", moves=torch_moves()) as a:
        assert a.weight.device.type == "cuda" and residency(b)["b"] == "offloaded to ram"
    assert b.status()["counters"]["loads"] == 3
