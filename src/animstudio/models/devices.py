"""Where models live and how much they take: the process's RAM readings, the GPU's (torch's
allocator, else NVML), and ``Moves``, what the broker may do with a kind of model besides loading
and dropping it (offload a GPU model to RAM and back, release a server).

    meter = gpu_meter(); model = load(); taken = meter()        # bytes the load took on the GPU
    Moves(to_ram=..., to_gpu=...) or torch_moves()              # torch modules, diffusers pipelines
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from animstudio.models.ledger import Device


def total_ram() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def rss() -> int:
    """This process's resident memory, bytes."""
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss() -> int:
    """The most this process has been resident at once, bytes (the kernel's high-water mark)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@dataclass(frozen=True)
class Moves:
    """What the broker may do with one kind of model besides loading it and dropping it.

    ``to_ram(model)`` moves a GPU model's weights into RAM and returns it (None: this one cannot move,
    so it is unloaded instead); ``to_gpu(model)`` moves it back. ``release(model)`` runs when the
    model is unloaded (a server process is stopped). ``measure(model, device)`` gives the bytes it
    takes where this process's memory does not show them (a server runs in its own process).
    """

    to_ram: Callable[[Any], Any] | None = None
    to_gpu: Callable[[Any], Any] | None = None
    release: Callable[[Any], None] | None = None
    measure: Callable[[Any, Device], int] | None = None


DROP = Moves()


def torch_moves(device: str = "cuda", pin: bool = True) -> Moves:
    """Moves for a torch module or a diffusers pipeline (its torch components): weights to RAM and
    back to ``device``. ``pin``: into page-locked memory, which the GPU copies to and from several
    times faster than ordinary memory."""
    return Moves(to_ram=lambda model: _move_weights(model, "cpu", pin),
                 to_gpu=lambda model: _move_weights(model, device))


def _move_weights(model: Any, device: str, pin: bool = False) -> Any:
    import torch

    modules = [model] if isinstance(model, torch.nn.Module) else [
        c for c in getattr(model, "components", {}).values() if isinstance(c, torch.nn.Module)]
    if not modules:
        moved = model.to(device)
        return moved if moved is not None else model
    for module in modules:
        for tensor in [*module.parameters(), *module.buffers()]:
            if device == "cpu":
                host = torch.empty(tensor.shape, dtype=tensor.dtype, device="cpu",
                                   pin_memory=pin and torch.cuda.is_available())
                host.copy_(tensor.data, non_blocking=host.is_pinned())
                tensor.data = host
            else:
                tensor.data = tensor.data.to(device, non_blocking=tensor.data.is_pinned())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()
        if device == "cpu":
            torch.cuda.empty_cache()
    return model


def gpu_total() -> int:
    try:
        import pynvml

        pynvml.nvmlInit()
        return int(pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(0)).total)
    except Exception:  # noqa: BLE001 - no NVIDIA driver: no GPU budget to share
        return 0


def cuda_torch() -> Any:
    """torch, where this process has already started CUDA with it; else None (nothing is imported)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        return torch
    return None


def nvml_used() -> int | None:
    try:
        import pynvml

        pynvml.nvmlInit()
        return int(pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(0)).used)
    except Exception:  # noqa: BLE001 - no NVIDIA driver: nothing to read
        return None


def gpu_meter() -> Callable[[], int]:
    """Start measuring a GPU load; the function returned gives the bytes it took: torch's high-water
    mark over the load where torch allocated, else what the card's use grew by (NVML: libraries other
    than torch). The CUDA context a process creates once is nobody's model; the budget's headroom
    (``broker.gpu_budget`` is 0.9 of the card by default) leaves room for it."""
    torch = cuda_torch()
    torch_before = int(torch.cuda.memory_allocated()) if torch else 0
    if torch:
        torch.cuda.reset_peak_memory_stats()
    card_before = nvml_used()

    def taken() -> int:
        torch = cuda_torch()
        by_torch = int(torch.cuda.max_memory_allocated()) - torch_before if torch else 0
        card_after = nvml_used()
        by_card = card_after - card_before if card_before is not None and card_after is not None else 0
        return by_torch if by_torch > 0 else max(by_card, 0)

    return taken


def empty_gpu_cache() -> None:
    torch = cuda_torch()
    if torch is not None:
        torch.cuda.empty_cache()
