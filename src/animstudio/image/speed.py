"""The GPU fast path: channels-last memory, fused QKV projections and ``torch.compile`` of the UNet
with Inductor's on-disk cache kept in the studio home, so a second start compiles from the cache.

    compile_unet(pipe)        # after pipe.to("cuda"); the first image pays for the compile
"""

from __future__ import annotations

import os
from typing import Any


def compile_cache() -> str:
    """Inductor's cache folder in the studio home (set before torch compiles anything)."""
    from animstudio.config import load_settings

    folder = load_settings().home / "cache" / "torch-compile"
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(folder))
    os.environ.setdefault("TORCHINDUCTOR_FX_GRAPH_CACHE", "1")
    os.environ.setdefault("TORCHINDUCTOR_AUTOGRAD_CACHE", "1")
    return os.environ["TORCHINDUCTOR_CACHE_DIR"]


def compile_unet(pipe: Any, mode: str = "max-autotune-no-cudagraphs") -> Any:
    import torch

    compile_cache()
    pipe.unet.to(memory_format=torch.channels_last)
    pipe.vae.to(memory_format=torch.channels_last)
    if hasattr(pipe, "fuse_qkv_projections"):
        pipe.fuse_qkv_projections()
    pipe.unet = torch.compile(pipe.unet, mode=mode, fullgraph=True)
    return pipe
