"""What the model broker costs on CPU, measured in one run against the peer each figure names.

1. use() of a model already loaded (a tiny in-memory object, so only the broker is timed): median
   and p99 over 200 000 calls, goal under 50 us; peer: `with contextlib.nullcontext(obj)`, timed
   the same way in the same run.
2. For two real catalog models of each kind the broker loads (asr: whisper-base int8 vs float32;
   tts: the Piper voice vs Kokoro; llm: smollm2-135m vs qwen2.5-coder-1.5b on the embedded engine;
   --quick: smollm2-135m at two context lengths; embedder, VAD and speaker encoder have one model each):
   the first load in this process, a switch (the budget fits one model only, so use() unloads the
   other and loads this one; median of --switches) and, as its peer, use() while both stay loaded
   (the budget is large).
3. torch: two torch modules of random weights (--torch-mb each) saved as safetensors, loaded the way
   a diffusers pipeline is (built on the meta device, weights assigned from the file). On a CUDA
   GPU the switch is measured twice: unloading the other and loading from the file, and offloading
   the other to RAM and moving this one back (the broker's offload). On CPU the model lives in RAM
   already, so there is nothing to offload to and that column says so. llama.cpp models (llm) and
   the onnx / CTranslate2 models (tts, asr) have no offload: they are unloaded.

Catalog models missing from the warehouse are installed from their local packages first
(animstudio.models.install.ensure, about 1.4 GB; --quick needs no qwen). The run keeps its ledger
and measured sizes in a temporary studio home; models come from your warehouse.

    python benchmarks/model_switch.py            # ends with one RESULT line per figure
    python benchmarks/model_switch.py --quick    # 20 000 calls, 2 switches, smallest models only
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

KINDS = ("asr", "tts", "llm", "torch")
NOT_MEASURED = "n/a: this kind is unloaded, never offloaded (llama.cpp, onnx and CTranslate2 models); on CPU " \
               "torch models live in RAM already"
NOTES = ("MB measured: what each load added to resident memory, as the broker records it (first load, then "
         "each switch)",
         "switch: use() under a budget that fits one model only, so the other is unloaded first; load s: the "
         "loader's part of it (the rest is the unload)",
         "stay: use() while both fit (no load, no unload)",
         "first load: the first in this process (libraries imported before); the OS file cache may hold the files "
         "(nothing is dropped; the LLM engine loads once when built)",
         f"with offload: the switch when the other model is offloaded to RAM and this one moved back; "
         f"{NOT_MEASURED}")
Model = tuple[str, Callable[[], Any]]   # the broker's name for it, and its loader


def studio_home() -> Path:
    """A temporary studio home (ledger, measured sizes) that reads models from the user's warehouse."""
    from animstudio.config import load_settings

    warehouse = load_settings().warehouse
    home = Path(tempfile.mkdtemp(prefix="animstudio-model-switch-"))
    atexit.register(shutil.rmtree, home, True)   # registered first: runs after every broker has closed
    os.environ["ANIMSTUDIO_HOME"] = str(home)
    os.environ["ANIMSTUDIO_MODELS"] = str(warehouse)
    return home


def new_broker(home: Path, tag: str, budget: int, gpu_budget: int = 0) -> Any:
    from animstudio.models.broker import Broker
    from animstudio.models.ledger import Ledger

    return Broker(ram_budget=budget, gpu_budget=gpu_budget, keep_alive_s=0, wait_s=1,
                  ledger=Ledger(home / f"ledger-{tag}.sqlite"), sizes_file=home / "measured-sizes.json")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---------------------------------------------------------------- 1. the broker's own overhead

def overhead(home: Path, calls: int) -> dict[str, float]:
    """Microseconds per `with broker.use(name, load)` of a resident model, and per nullcontext."""
    weights = {"weights": [0.0] * 16}
    broker = new_broker(home, "overhead", 1 << 30)

    def load() -> Any:
        return weights

    with broker.use("bench-tiny", load, estimate=1024):   # loaded once, outside the timing
        pass
    now, use, null = time.perf_counter_ns, broker.use, contextlib.nullcontext
    timed: dict[str, list[int]] = {"broker": [], "nullcontext": [], "timer": []}
    block = max(1, calls // 10)
    for _ in range(max(1, calls // block)):   # interleaved blocks: both see the same machine
        for _ in range(block):
            t = now()
            with use("bench-tiny", load):
                pass
            timed["broker"].append(now() - t)
        for _ in range(block):
            t = now()
            with null(weights):
                pass
            timed["nullcontext"].append(now() - t)
        for _ in range(block):
            t = now()
            timed["timer"].append(now() - t)
    assert broker.counters.loads == 1, broker.status()
    broker.free()
    broker.close()
    return {f"{what}_{stat}": (statistics.median(v) if stat == "median" else percentile(v, 0.99)) / 1000
            for what, v in timed.items() for stat in ("median", "p99")}


# ---------------------------------------------------------------- 2. switching real models

def asr_models() -> list[Model]:
    from animstudio.media.ffmpeg import usable_cores
    from animstudio.voice.asr import _load_whisper

    threads = usable_cores()   # named as animstudio.voice.asr names them: model:compute type
    return [(f"whisper-base:{ct}", partial(_load_whisper, ("whisper-base", threads, ct))) for ct in ("int8", "float32")]


def tts_models() -> list[Model]:
    from animstudio.voice.engines import kokoro, piper

    voice = "en_US-joe-medium"
    return [(piper.CATALOG_VOICES[voice][0], partial(piper._load_voice, voice)),
            (kokoro.MODEL, partial(kokoro._load_model, kokoro.MODEL))]


def llm_models(quick: bool) -> list[Model]:
    """Two embedded servers (--quick: the smallest model at two context lengths: two loads of it)."""
    from animstudio.llm.engines.embedded import EmbeddedEngine

    specs = ([("smollm2-135m-instruct", 2048), ("smollm2-135m-instruct", 4096)] if quick
             else [("smollm2-135m-instruct", 4096), ("qwen2.5-coder-1.5b-instruct", 4096)])
    engines = [EmbeddedEngine(model=model, context=context) for model, context in specs]
    for engine in engines:
        engine.close()   # the engine loaded once to check the file; the benchmark's brokers load it next
    return [(engine.held_as, engine._load) for engine in engines]


TORCH_MB = 256
GPU = "cuda"
ESTIMATES: dict[str, int] = {}   # bytes of models the catalog does not know (their files' size)


def torch_models(home: Path, mb: int) -> list[Model]:
    """Two modules of ``mb`` MB each (float16 on a GPU, float32 on CPU), saved as safetensors; the
    loaders build each on the meta device and assign the file's weights on the device (GPU, else CPU)."""
    import torch
    from safetensors.torch import load_file, save_file

    device = GPU if torch.cuda.is_available() else "cpu"
    dtype = torch.float16 if device == GPU else torch.float32
    width = 2048
    layers = max(1, mb * (1 << 20) // (width * width * dtype.itemsize))

    def build(on: str) -> torch.nn.Module:
        with torch.device(on):
            return torch.nn.Sequential(*[torch.nn.Linear(width, width, bias=False, dtype=dtype)
                                         for _ in range(layers)])

    models = []
    for tag in ("a", "b"):
        path = home / f"torch-{tag}.safetensors"
        save_file({k: v.contiguous() for k, v in build("cpu").state_dict().items()}, str(path))

        def load(path: Path = path) -> torch.nn.Module:
            module = build("meta")
            module.load_state_dict(load_file(str(path), device=device), assign=True)
            if device == GPU:
                torch.cuda.synchronize()
            return module

        models.append((f"torch-{mb}mb-{tag}", load))
        ESTIMATES[models[-1][0]] = path.stat().st_size   # weights mapped from the file count in RSS once touched
    return models


def timed_use(broker: Any, model: Model, device: str = "ram", moves: Any = None) -> float:
    from animstudio.models.broker import DROP

    name, load = model
    start = time.perf_counter()
    with broker.use(name, load, device=device, estimate=ESTIMATES.get(name), moves=moves or DROP):  # type: ignore[arg-type]
        pass
    if device == "gpu":
        import torch

        torch.cuda.synchronize()
    return time.perf_counter() - start


def offload_switching(home: Path, models: list[Model], switches: int, pin: bool = True) -> dict[str, float]:
    """Median switch into each torch model on the GPU when the other is offloaded to RAM (page-locked
    memory where ``pin``), not unloaded."""
    from animstudio.models.broker import torch_moves

    moves = torch_moves(GPU, pin=pin)
    gpu = new_broker(home, f"torch-offload-{pin}", 1 << 50, gpu_budget=1 << 50)
    for m in models:
        timed_use(gpu, m, "gpu", moves)                          # sizes measured with room for both
    sizes = [gpu.resident[m[0]].size for m in models]
    gpu.free()
    gpu.budgets["gpu"] = max(sizes) + min(sizes) // 2          # fits one on the card, never both
    for m in models:
        timed_use(gpu, m, "gpu", moves)                          # loaded again: the second offloads the first
    timed: dict[str, list[float]] = {m[0]: [] for m in models}
    for i in range(switches):
        m = models[i % 2]                                        # back to a, then b, ...
        timed[m[0]].append(timed_use(gpu, m, "gpu", moves))
    counters = gpu.counters
    assert counters.loads == 4 and counters.restores == switches, gpu.status()
    gpu.free()
    gpu.close()
    return {name: statistics.median(values) for name, values in timed.items()}


def switching(home: Path, kind: str, models: list[Model], switches: int, stays: int) -> list[dict[str, Any]]:
    """Per model: first load (s), stay-loaded use() (us), switch into it (s), the sizes the broker measured."""
    on_gpu = kind == "torch" and _cuda()
    device = "gpu" if on_gpu else "ram"
    both = new_broker(home, f"{kind}-both", 1 << 50, gpu_budget=1 << 50)
    rows = [{"kind": kind, "model": m[0], "first_s": timed_use(both, m, device), "stay": [], "switch": [],
             "loads": [], "sizes": [both.resident[m[0]].size]} for m in models]
    for _ in range(stays):
        for row, m in zip(rows, models, strict=True):
            row["stay"].append(timed_use(both, m, device))
    assert both.counters.loads == len(models), both.status()   # both stayed loaded
    both.free()
    both.close()
    one = new_broker(home, f"{kind}-one", 1 << 50, gpu_budget=1 << 50)
    timed_use(one, models[0], device)
    for i in range(switches):
        j = 1 - i % 2                  # in to models[1], back to models[0], ...
        name, held = models[j][0], one.resident[models[1 - j][0]].size
        # fits the incoming model alone, never both, as the broker counts them now (a reload's measured
        # size changes when the allocator reuses memory the unloaded model gave back)
        one.budgets[device] = one.size_of(name, ESTIMATES.get(name)) + held // 2
        rows[j]["switch"].append(timed_use(one, models[j], device))
        rows[j]["sizes"].append(one.resident[name].size)
        rows[j]["loads"].append(one.resident[name].load_s)
    evictions = one.counters.evictions
    one.free()
    one.close()
    offloaded = offload_switching(home, models, switches) if on_gpu else {}
    pageable = offload_switching(home, models, switches, pin=False) if on_gpu else {}
    for row in rows:
        row.update(evictions=evictions, switches=switches, stay_us=statistics.median(row["stay"]) * 1e6,
                   switch_s=statistics.median(row["switch"]), load_s=statistics.median(row["loads"]),
                   offload_switch_s=offloaded.get(row["model"]), pageable_switch_s=pageable.get(row["model"]),
                   device=device)
    return rows


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def prepare(kinds: list[str], quick: bool, home: Path, torch_mb: int) -> dict[str, list[Model]]:
    from animstudio.models.install import ensure

    names = {"asr": ["whisper-base"], "tts": ["piper-en_US-joe-medium", "kokoro-82m-int8"],
             "llm": ["smollm2-135m-instruct"] + ([] if quick else ["qwen2.5-coder-1.5b-instruct"]), "torch": []}
    start = time.perf_counter()
    libraries = {"asr": ["faster_whisper"], "tts": ["piper", "onnxruntime"], "llm": ["xllamacpp"],
                 "torch": ["torch", "safetensors.torch"]}
    for kind in kinds:
        for library in libraries[kind]:
            importlib.import_module(library)   # imported once here, so no first load counts an import
        for name in names[kind]:
            ensure(name)   # from the local packages when missing, so installing is never timed
    print(f"models ready in {time.perf_counter() - start:.1f} s (installed where missing, verified)")
    makers = {"asr": asr_models, "tts": tts_models, "llm": partial(llm_models, quick),
              "torch": partial(torch_models, home, torch_mb)}
    return {kind: makers[kind]() for kind in kinds}


# ---------------------------------------------------------------- report

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kinds", nargs="*", metavar="KIND",
                        help=f"kinds of model to switch: {', '.join(KINDS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, smallest models only")
    parser.add_argument("--calls", type=int, help="use() calls for the overhead (default 200000; quick 20000)")
    parser.add_argument("--switches", type=int, help="switches per kind (default 10; quick 2)")
    parser.add_argument("--torch-mb", type=int, default=TORCH_MB, help=f"size of each torch model, MB "
                                                                       f"(default {TORCH_MB}; on a GPU try 4096)")
    args = parser.parse_args()
    calls = args.calls or (20_000 if args.quick else 200_000)
    switches = args.switches or (2 if args.quick else 10)
    stays = 100 if args.quick else 1000
    if calls < 10 or switches < 2:
        parser.error("--calls needs at least 10 and --switches at least 2 (one each way)")
    if unknown := sorted(set(args.kinds) - set(KINDS)):
        parser.error(f"no kind {', '.join(unknown)}; choose from {', '.join(KINDS)}")
    home = studio_home()
    kinds = args.kinds or list(KINDS)

    o = overhead(home, calls)
    print(f"use() of a loaded model, {calls} calls (us):   median    p99")
    for what in ("broker", "nullcontext", "timer"):
        print(f"  {what:12} {o[f'{what}_median']:28.3f} {o[f'{what}_p99']:6.3f}")
    ratio = o["broker_median"] / o["nullcontext_median"]
    print(f"broker / nullcontext (medians, timer included in both): {ratio:.1f}x")

    rows = [row for kind, models in prepare(kinds, args.quick, home, args.torch_mb).items()
            for row in switching(home, kind, models, switches, stays)]
    print(f"\n{'kind':5} {'model':36} {'on':4} {'MB measured':>13} {'first load s':>12} {'switch s':>9} "
          f"{'load s':>7} {'stay us':>8} {'switch/stay':>11}  switch with offload")
    for r in rows:
        mb = f"{min(r['sizes']) >> 20}-{max(r['sizes']) >> 20}"
        offload = (f"{r['offload_switch_s']:.3f} s (pageable RAM: {r['pageable_switch_s']:.3f} s)"
                   if r["offload_switch_s"] is not None else "n/a")
        print(f"{r['kind']:5} {r['model']:36} {r['device']:4} {mb:>13} {r['first_s']:12.3f} {r['switch_s']:9.3f} "
              f"{r['load_s']:7.3f} {r['stay_us']:8.1f} {r['switch_s'] * 1e6 / r['stay_us']:10.0f}x  {offload}")
    for kind in kinds:
        r = next(r for r in rows if r["kind"] == kind)
        print(f"{kind}: {r['evictions']} evictions in {r['switches']} switches")
        if r["evictions"] != r["switches"]:
            print(f"WARNING {kind}: a switch did not unload the other model, so its switch time is not a switch")
    print("\n".join(NOTES))

    print(f"RESULT broker_use_median {o['broker_median']:.2f} us goal 50")
    print(f"RESULT broker_use_p99 {o['broker_p99']:.2f} us goal 50")
    print(f"RESULT broker_use_vs_nullcontext {ratio:.1f} x goal none")
    for r in rows:
        print(f"RESULT first_load_{r['model']} {r['first_s']:.3f} s goal none")
        print(f"RESULT switch_{r['model']} {r['switch_s']:.3f} s goal none")
        print(f"RESULT stay_loaded_{r['model']} {r['stay_us']:.1f} us goal none")
        if r["offload_switch_s"] is not None:
            print(f"RESULT switch_offloaded_{r['model']} {r['offload_switch_s']:.3f} s goal 5")
            print(f"RESULT switch_offloaded_pageable_{r['model']} {r['pageable_switch_s']:.3f} s goal none")


if __name__ == "__main__":
    main()
