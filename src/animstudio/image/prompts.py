"""A1111 prompts: attention weights, ``BREAK``, LoRA tags, and prompts longer than CLIP's 77 tokens,
encoded into the embeddings the SD 1.5 and SDXL diffusers pipelines take.

    parse_weights("a (red:1.3) fox, ((snow)) [blur]")
    # [("a ", 1.0), ("red", 1.3), (" fox, ", 1.0), ("snow", 1.21), (" ", 1.0), ("blur", 0.909...)]
    extract_loras("mira waving <lora:inkwash:0.6>")    # ("mira waving", {"inkwash": 0.6})
    emb = encode("a (red:1.3) fox", [pipe.tokenizer, pipe.tokenizer_2], [pipe.text_encoder, pipe.text_encoder_2],
                 negative_prompt="blurry")
    pipe(**emb.as_kwargs(), num_inference_steps=30)

Weights follow A1111: ``(x)`` multiplies by 1.1, ``((x))`` by 1.21, ``(x:1.5)`` by 1.5, ``[x]`` divides
by 1.1, ``\\(`` and ``\\)`` are literal brackets, an unclosed bracket weights the rest of the prompt.
The prompt is cut into windows of 75 tokens (each encoded as BOS + 75 + EOS, so any length works),
``BREAK`` starts a new window, and a window that fills up within 20 tokens of a comma moves the words
after that comma to the next one. Each token's output vector is scaled by its weight and the
window's mean restored, as A1111 does. A1111's prompt editing (``[a:b:0.5]``) is not supported: its
brackets weight the text like any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from animstudio.image.loras import split_tags

BREAK = ("BREAK", -1.0)     # parse_weights' marker: a new 75-token window starts here
WINDOW = 75
COMMA_BACKTRACK = 20

ATTENTION = re.compile(r"""
    \\[()\[\]\\]              # an escaped bracket or backslash: literal
  | \\                        # a lone backslash: literal
  | [(\[]                     # an opening bracket
  | :\s*([+-]?[.\d]+)\s*\)    # an explicit weight closing a round bracket
  | [)\]]                     # a closing bracket
  | [^\\()\[\]:]+             # plain text
  | :                         # a colon that is not a weight
""", re.X)
BREAK_WORD = re.compile(r"\s*\bBREAK\b\s*")


def extract_loras(text: str) -> tuple[str, dict[str, float]]:
    """The prompt without its ``<lora:name:weight>`` tags, and the tags' weights (1 when not given)."""
    return split_tags(text)


def parse_weights(text: str) -> list[tuple[str, float]]:
    """The prompt as (text, weight) pieces, neighbours of one weight joined; ``BREAK`` is the piece
    ``("BREAK", -1.0)``. LoRA tags should be taken out first (:func:`extract_loras`)."""
    pieces: list[list[Any]] = []
    open_round: list[int] = []
    open_square: list[int] = []

    def scale(start: int, factor: float) -> None:
        for piece in pieces[start:]:
            if tuple(piece) != BREAK:
                piece[1] *= factor

    for match in ATTENTION.finditer(text):
        token, weight = match.group(0), match.group(1)
        if token in ("(", "["):
            (open_round if token == "(" else open_square).append(len(pieces))
        elif weight is not None and open_round and _number(weight) is not None:
            scale(open_round.pop(), _number(weight))
        elif token == ")" and open_round:
            scale(open_round.pop(), 1.1)
        elif token == "]" and open_square:
            scale(open_square.pop(), 1 / 1.1)
        elif len(token) == 2 and token.startswith("\\"):
            pieces.append([token[1], 1.0])
        else:
            for i, part in enumerate(BREAK_WORD.split(token)):
                if i:
                    pieces.append(list(BREAK))
                pieces.append([part, 1.0])
    for start in open_round:
        scale(start, 1.1)
    for start in open_square:
        scale(start, 1 / 1.1)
    return _joined(pieces)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _joined(pieces: list[list[Any]]) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    for text, weight in pieces:
        if text == "" and weight != BREAK[1]:
            continue
        if out and out[-1][1] == weight and weight != BREAK[1]:
            out[-1] = (out[-1][0] + text, weight)
        else:
            out.append((text, weight))
    return out or [("", 1.0)]


# ------------------------------------------------------------------ tokens in windows


def windows(pieces: list[tuple[str, float]], tokenizer: Any, backtrack: int = COMMA_BACKTRACK
            ) -> list[tuple[list[int], list[float]]]:
    """The pieces' tokens cut into 75-token windows, each as (token ids, weights), unpadded."""
    comma = tokenizer.convert_tokens_to_ids(",</w>")
    if tokenizer.convert_ids_to_tokens(comma) != ",</w>":   # a vocabulary without commas
        comma = None
    done: list[tuple[list[int], list[float]]] = []
    ids: list[int] = []
    weights: list[float] = []
    last_comma = -1
    for text, weight in pieces:
        if (text, weight) == BREAK:
            done.append((ids, weights))
            ids, weights, last_comma = [], [], -1
            continue
        for token in tokenizer(text, add_special_tokens=False, truncation=False).input_ids:
            if len(ids) == WINDOW:
                if backtrack and last_comma >= 0 and WINDOW - last_comma <= backtrack:
                    cut = last_comma + 1
                    done.append((ids[:cut], weights[:cut]))
                    ids, weights = ids[cut:], weights[cut:]
                else:
                    done.append((ids, weights))
                    ids, weights = [], []
                last_comma = -1
            if token == comma:
                last_comma = len(ids)
            ids.append(token)
            weights.append(weight)
    if ids or not done:
        done.append((ids, weights))
    return done


def _padded(window: tuple[list[int], list[float]], tokenizer: Any) -> tuple[list[int], list[float]]:
    """BOS + tokens + EOS, then padding to 77, as the tokenizer itself pads a short prompt."""
    ids, weights = window
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    rest = WINDOW - len(ids)
    return ([tokenizer.bos_token_id, *ids, tokenizer.eos_token_id, *[pad] * rest],
            [1.0, *weights, 1.0, *[1.0] * rest])


# ------------------------------------------------------------------ embeddings


@dataclass
class Embeddings:
    """What a diffusers SD 1.5 / SDXL pipeline takes instead of prompt strings."""

    prompt_embeds: Any
    negative_prompt_embeds: Any
    pooled_prompt_embeds: Any = None
    negative_pooled_prompt_embeds: Any = None

    def as_kwargs(self) -> dict[str, Any]:
        """The pipeline's keyword arguments (no pooled ones for SD 1.5)."""
        return {k: v for k, v in vars(self).items() if v is not None}


def _layer(encoder: Any, ids: Any, clip_skip: int, final_norm: bool) -> tuple[Any, Any]:
    """Hidden states ``clip_skip`` layers from the top (1: the last) and the encoder's pooled output."""
    out = encoder(ids, output_hidden_states=True)
    hidden = out.hidden_states[-clip_skip]
    if final_norm:
        hidden = getattr(encoder, "text_model", encoder).final_layer_norm(hidden)   # transformers 4 nests it
    return hidden, out[0]


def _encode_one(text: str, tokenizers: list[Any], encoders: list[Any], clip_skip: int, chunks: int,
                normalize: bool, backtrack: int, family: str) -> tuple[Any, Any, int]:
    """One prompt's embeddings (windows of every encoder joined on the sequence, encoders on the
    feature axis), the last encoder's pooled output of the first window (SDXL and its refiner), and
    the window count; at least ``chunks`` windows (empty ones pad it)."""
    import torch

    pieces = parse_weights(extract_loras(text)[0])
    found = [windows(pieces, tokenizer, backtrack) for tokenizer in tokenizers]
    count = max(chunks, *(len(f) for f in found))
    per_encoder, pooled = [], None
    for i, (tokenizer, encoder, own) in enumerate(zip(tokenizers, encoders, found, strict=True)):
        outs = []
        for j, window in enumerate(own + [([], [])] * (count - len(own))):
            ids, weights = _padded(window, tokenizer)
            device = encoder.device
            hidden, first = _layer(encoder, torch.tensor([ids], device=device), clip_skip, family == "sd15")
            if family != "sd15" and i == len(encoders) - 1 and j == 0:
                pooled = first
            outs.append(_weighted(hidden, torch.tensor(weights, device=device, dtype=hidden.dtype), normalize))
        per_encoder.append(torch.cat(outs, dim=1))
    return torch.cat(per_encoder, dim=-1), pooled, count


def _weighted(hidden: Any, weights: Any, normalize: bool) -> Any:
    """Each position's vector times its weight; with ``normalize``, the window's mean restored."""
    scaled = hidden * weights.reshape(1, -1, 1)
    if not normalize or bool((weights == 1).all()):
        return scaled
    mean = scaled.mean()
    if abs(float(mean)) < 1e-12:   # a window whose mean is nought (a text encoder ending in a bare layer norm)
        return scaled
    return scaled * (hidden.mean() / mean)


def encode(prompt: str, tokenizers: list[Any], text_encoders: list[Any], negative_prompt: str = "",
           clip_skip: int | None = None, normalize: bool = True, backtrack: int = COMMA_BACKTRACK,
           family: str | None = None) -> Embeddings:
    """Weighted embeddings of ``prompt`` and ``negative_prompt`` of any length.

    One tokenizer and encoder: SD 1.5 (the last layer, or ``clip_skip`` layers from the top, through
    the final layer norm). Two: SDXL (each encoder's penultimate layer, or ``clip_skip`` from the top,
    joined on the feature axis; the pooled output of the second encoder's first window). Both prompts
    get the same number of windows. ``family="sdxl-refiner"``: the refiner's one encoder, read as
    SDXL's second (penultimate layer, pooled output). ``clip_skip`` counts as A1111's "Clip skip" does
    (1: the last layer); it defaults to 1 for SD 1.5 and 2 for SDXL.
    """
    import torch

    if len(tokenizers) != len(text_encoders) or len(tokenizers) not in (1, 2):
        raise ValueError("give one tokenizer and text encoder (SD 1.5) or two of each (SDXL)")
    family = family or ("sd15" if len(text_encoders) == 1 else "sdxl")
    skip = clip_skip if clip_skip is not None else (1 if family == "sd15" else 2)

    def one(text: str, chunks: int) -> tuple[Any, Any, int]:
        return _encode_one(text, tokenizers, text_encoders, skip, chunks, normalize, backtrack, family)

    with torch.no_grad():
        pos, pooled, n_pos = one(prompt, 0)
        neg, neg_pooled, n_neg = one(negative_prompt, n_pos)
        if n_neg > n_pos:
            pos, pooled, _ = one(prompt, n_neg)
    return Embeddings(pos, neg, pooled, neg_pooled)
