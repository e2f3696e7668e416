"""The broker keeps what it loads inside its budget: idle models are evicted least-recently-used first,
models in use never, sizes are measured, and a model that cannot fit is one clear error."""

from __future__ import annotations

import numpy as np
import pytest

from animstudio.models.broker import Broker, BudgetError, human, parse_budget
from animstudio.models.ledger import Ledger

MB = 1 << 20


def block(mb: int):
    """A 'model' that really takes ``mb`` MB of this process's memory."""
    def load():
        return np.ones(mb * MB, np.uint8)
    return load


@pytest.fixture
def make(tmp_path):
    made = []

    def make(budget_mb: int, **kwargs) -> Broker:
        b = Broker(ram_budget=budget_mb * MB, gpu_budget=0, keep_alive_s=kwargs.pop("keep_alive_s", 0),
                   wait_s=kwargs.pop("wait_s", 0.3), ledger=Ledger(tmp_path / "ledger.sqlite", heartbeat_s=0.2),
                   sizes_file=tmp_path / "sizes.json", **kwargs)
        made.append(b)
        return b

    yield make
    for b in made:
        b.free()
        b.close()


def test_budgets_parse():
    assert parse_budget("6GB", 0) == 6 << 30 and parse_budget("512mb", 0) == 512 * MB
    assert parse_budget("0.5", 1000) == 500 and parse_budget("2000", 0) == 2000
    with pytest.raises(Exception, match="is not a size"):
        parse_budget("lots", 0)


def test_idle_models_are_evicted_least_recently_used_and_pinned_ones_never(make):
    b = make(250)
    for name in ("a", "b"):
        with b.use(name, block(100), estimate=100 * MB) as model:
            assert model.nbytes == 100 * MB
    assert [m["name"] for m in b.status()["models"]] == ["a", "b"]
    sizes = {m["name"]: m["bytes"] for m in b.status()["models"]}
    assert all(90 * MB <= size <= 130 * MB for size in sizes.values()), sizes   # measured, not guessed
    with b.use("a", block(100)):
        pass                               # a is now the most recently used
    with b.use("c", block(100), estimate=100 * MB):   # needs room: b goes, not a
        held = {m["name"] for m in b.status()["models"]}
        assert held == {"a", "c"}
        with b.use("a", block(100)), pytest.raises(BudgetError) as refused:
            b.use("d", block(100), estimate=100 * MB).__enter__()   # a and c are in use: nothing can go
    message = str(refused.value)
    assert "\n" not in message and "d needs" in message and "a " in message and "in use" in message
    assert b.counters.evictions == 1 and b.ledger.used("ram") <= 250 * MB


def test_a_model_larger_than_the_budget_is_refused_before_loading(make):
    b = make(50)
    loaded = []

    def load():
        loaded.append(1)
        return np.ones(10, np.uint8)

    with pytest.raises(BudgetError, match=r"^big needs 100\.0 MB of RAM, over the whole budget of 50\.0 MB"):
        b.use("big", load, estimate=100 * MB).__enter__()
    assert not loaded and not b.status()["models"] and b.ledger.used("ram") == 0


def test_keep_alive(make):
    b = make(500, keep_alive_s=0.05)
    with b.use("x", block(60), estimate=60 * MB):
        pass
    import time
    time.sleep(0.1)
    b.tick()
    assert not b.status()["models"] and b.ledger.used("ram") == 0    # idle past its keep-alive


SIZES = """
import sys
from pathlib import Path
import numpy as np
from animstudio.models.broker import Broker
from animstudio.models.ledger import Ledger
folder = Path(sys.argv[1])
b = Broker(ram_budget=500 << 20, ledger=Ledger(folder / "ledger.sqlite"), sizes_file=folder / "sizes.json")
with b.use("x", lambda: np.ones(60 << 20, np.uint8)):
    pass
print(b.size_of("x"))
"""


def test_a_fresh_process_measures_and_remembers_what_a_load_took(tmp_path):
    import subprocess
    import sys

    # a fresh process: in a long-lived one, a new load may reuse memory an earlier one freed
    done = subprocess.run([sys.executable, "-c", SIZES, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert 55 * MB <= int(done.stdout) <= 80 * MB
    assert human(int(done.stdout)).endswith("MB")


def test_status_of_the_machine_lists_holders(make, tmp_path):
    from animstudio.models.broker import machine_status

    b = make(500)
    with b.use("m", block(20)):
        b.tick()
        found = machine_status(Ledger(tmp_path / "ledger.sqlite"))
        (row,) = found["models"]
        assert row["model"] == "m" and row["in_use"] and row["pid"] == b.ledger.pid
