"""CLIP's tokenizer for single-file checkpoints. An A1111/Civitai ``.safetensors`` file holds the text
encoders' weights but not their vocabulary; the vocabulary is rebuilt here from CLIP's byte-pair merge
list (the catalog's ``clip-bpe-merges``, installed on first use), the same 49,408 tokens that SD 1.5
and both SDXL text encoders were trained with.

    clip_tokenizer()            # SD 1.5 and SDXL's first encoder (pads with <|endoftext|>)
    clip_tokenizer(pad="!")     # SDXL's second encoder
"""

from __future__ import annotations

import functools
import gzip
from typing import Any

MERGES = "clip-bpe-merges"
VOCAB_MERGES = 49152 - 256 - 2   # the merges CLIP uses: its vocabulary is 49,408 tokens
START, END = "<|startoftext|>", "<|endoftext|>"


def byte_symbols() -> list[str]:
    """The 256 printable symbols that byte-level BPE uses for the bytes 0-255 (printable Latin-1
    characters stand for themselves; the others are moved past 255)."""
    kept = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    symbols = {b: chr(b) for b in kept}
    extra = 0
    for b in range(256):
        if b not in symbols:
            symbols[b] = chr(256 + extra)
            extra += 1
    return [symbols[b] for b in [*kept, *(b for b in range(256) if b not in kept)]]


@functools.lru_cache(maxsize=1)
def vocabulary() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """CLIP's token ids and merges, from the catalog's merge list."""
    from animstudio.models.install import ensure

    with gzip.open(ensure(MERGES), "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")[1:VOCAB_MERGES + 1]   # the first line is a version header
    merges = [tuple(line.split()) for line in lines]
    base = byte_symbols()
    tokens = [*base, *(s + "</w>" for s in base), *("".join(m) for m in merges), START, END]
    return {t: i for i, t in enumerate(tokens)}, merges   # type: ignore[return-value]


def clip_tokenizer(pad: str = END) -> Any:
    from transformers import CLIPTokenizer

    vocab, merges = vocabulary()
    return CLIPTokenizer(vocab=dict(vocab), merges=list(merges), pad_token=pad, model_max_length=77)
