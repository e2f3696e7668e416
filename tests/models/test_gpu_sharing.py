"""Two processes share one card through the ledger: while each switches between three 1 GiB models on
the GPU, the card's memory in use, read by NVML every 50 ms, never goes over the machine's GPU budget
(beyond what the two processes held before their first model: CUDA contexts and cuBLAS workspaces)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

pytestmark = pytest.mark.gpu

GIB = 1 << 30
BUDGET = 3 * GIB
SLACK = 128 << 20      # a forward pass's activations and the allocator's rounding

USER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    import torch
    from animstudio.models.broker import Broker
    from animstudio.models.devices import torch_moves
    from animstudio.models.ledger import Ledger

    ledger, budget, tag, rounds, go = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), Path(sys.argv[5])
    side = 16384                                               # a side x side float32 matrix: 1 GiB
    torch.nn.Linear(side, 8, device="cuda")(torch.ones(1, side, device="cuda"))   # context and cuBLAS first
    torch.cuda.synchronize()
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.01)
    b = Broker(ram_budget=16 << 30, gpu_budget=budget, keep_alive_s=0, wait_s=60,
               ledger=Ledger(ledger, heartbeat_s=0.1), sizes_file=Path(ledger).with_name(f"sizes-{tag}.json"))

    def load():
        return torch.nn.Linear(side, side, bias=False, device="cuda")

    for _ in range(rounds):
        for name in "abc":
            with b.use(f"{tag}-{name}", load, device="gpu", estimate=1 << 30, moves=torch_moves()) as layer:
                assert layer.weight.device.type == "cuda"
                layer(torch.ones(1, side, device="cuda"))
                torch.cuda.synchronize()
                time.sleep(0.05)
    counters = b.status()["counters"]
    b.free()
    b.close()
    print(json.dumps(counters), flush=True)
""")


def test_two_processes_switching_models_never_exceed_the_gpu_budget(tmp_path):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU on this machine")
    import pynvml

    pynvml.nvmlInit()
    card = pynvml.nvmlDeviceGetHandleByIndex(0)
    if pynvml.nvmlDeviceGetMemoryInfo(card).free < BUDGET + 4 * GIB:
        pytest.skip("the card has too little free memory for this check")

    go = tmp_path / "go"
    users = [subprocess.Popen([sys.executable, "-c", USER, str(tmp_path / "ledger.sqlite"), str(BUDGET), tag, "4",
                               str(go)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for tag in ("one", "two")]
    try:
        for user in users:
            assert user.stdout.readline().strip() == "ready", user.stderr.read()
        time.sleep(0.5)
        baseline = pynvml.nvmlDeviceGetMemoryInfo(card).used
        go.touch()
        samples = []
        while any(user.poll() is None for user in users):
            samples.append(pynvml.nvmlDeviceGetMemoryInfo(card).used - baseline)
            time.sleep(0.05)
        outs = [user.communicate(timeout=30) for user in users]
    finally:
        for user in users:
            user.kill()
    for user, (_out, err) in zip(users, outs, strict=True):
        assert user.returncode == 0, err
    counters = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    peak = max(samples)
    print(f"{len(samples)} samples, peak {peak / GIB:.2f} GiB over the processes' own use, budget "
          f"{BUDGET / GIB:.0f} GiB; {counters}")
    assert peak <= BUDGET + SLACK, f"the card held {peak / GIB:.2f} GiB for models, over the {BUDGET / GIB} GiB budget"
    assert peak >= 2 * GIB                                        # the budget was really used
    assert sum(c["offloads"] for c in counters) >= 4     # and models were moved out of each other's way
