"""Trying an appearance embedder on pictures with known characters: test pictures made from cut-outs
(composited on a flat or noisy background, scaled, shifted, JPEG-compressed, alpha dropped) and the
same-vs-other AUC over labelled groups, each picture scored against every character's references
with itself left out.

    rng = np.random.default_rng(0)
    shown = composite(Image.open("robot_idle.png"), "noise", rng, scale=1.3, jpeg=70)   # RGB, no alpha
    same_vs_other_auc({"robot": robots, "zombie": zombies}, PaletteEmbedder())          # 0.0-1.0
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
from PIL import Image

Background = Literal["alpha", "flat", "noise"]


def background(size: tuple[int, int], kind: Background, rng: np.random.Generator) -> Image.Image:
    """A random flat colour, or a random colour under strong noise: per-pixel grain over coarse blotches."""
    w, h = size
    base = rng.integers(0, 256, 3)
    if kind == "flat":
        return Image.new("RGB", size, tuple(int(v) for v in base))
    blotches = rng.normal(0, 30, (max(2, h // 16), max(2, w // 16), 3)).astype(np.float32)
    up = cv2.resize(blotches, (w, h), interpolation=cv2.INTER_CUBIC)
    grain = rng.normal(0, 18, (h, w, 3))
    return Image.fromarray(np.clip(base + up + grain, 0, 255).astype(np.uint8))


def composite(image: Image.Image, kind: Background, rng: np.random.Generator, scale: float = 1.0,
              shift: tuple[int, int] = (0, 0), margin: float = 0.0, jpeg: int | None = None) -> Image.Image:
    """``image`` (RGBA) scaled by ``scale`` on a canvas ``margin`` (a fraction of its size) larger each
    way, moved by ``shift`` pixels from the centre, over a background of ``kind`` (``alpha`` keeps a
    transparent one); then JPEG-compressed at quality ``jpeg`` if given (alpha is lost there)."""
    rgba = image.convert("RGBA")
    if scale != 1.0:
        rgba = rgba.resize((max(1, round(rgba.width * scale)), max(1, round(rgba.height * scale))), Image.LANCZOS)
    w, h = round(rgba.width * (1 + margin)), round(rgba.height * (1 + margin))
    x = (w - rgba.width) // 2 + shift[0]
    y = (h - rgba.height) // 2 + shift[1]
    if kind == "alpha":
        canvas = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        canvas.alpha_composite(rgba, (x, y))
        out: Image.Image = canvas
    else:
        out = background((w, h), kind, rng)
        out.paste(rgba, (x, y), rgba)
    if jpeg is not None:
        buffer = io.BytesIO()
        out.convert("RGB").save(buffer, "JPEG", quality=jpeg)
        out = Image.open(io.BytesIO(buffer.getvalue()))
        out.load()
    return out


def load_groups(folder: str | Path) -> dict[str, list[Image.Image]]:
    """Labelled pictures: each sub-folder of ``folder`` is one character, its pictures that character's."""
    from animstudio.image.consistency import image_files, open_image

    return {sub.name: [open_image(p) for p in image_files(sub)] for sub in sorted(Path(folder).iterdir())
            if sub.is_dir()}


def make_condition(groups: dict[str, list[Image.Image]], condition: str, seed: int) -> dict[str, list[Image.Image]]:
    """Every picture of ``groups`` shown under ``condition``: ``alpha`` (as given), ``flat`` or ``noise``
    (composited without alpha on a random background), or ``noise-scaled-jpeg`` (on noise, scaled by
    0.6-1.6, moved up to 10 px on a canvas 30% larger, JPEG quality 60)."""
    rng = np.random.default_rng(seed)
    if condition == "noise-scaled-jpeg":
        return {name: [composite(im, "noise", rng, scale=float(rng.uniform(0.6, 1.6)), margin=0.3, jpeg=60,
                                 shift=(int(rng.integers(-10, 11)), int(rng.integers(-10, 11)))) for im in images]
                for name, images in groups.items()}
    return {name: [composite(im, condition, rng) for im in images] for name, images in groups.items()}  # type: ignore[arg-type]


def roc_auc(positives: np.ndarray, negatives: np.ndarray) -> float:
    """The probability that a random positive scores above a random negative (ties count half)."""
    pos, neg = np.asarray(positives, np.float64), np.asarray(negatives, np.float64)
    above = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(above / (len(pos) * len(neg)))


def group_scores(vectors: dict[str, np.ndarray], top: int) -> tuple[np.ndarray, np.ndarray]:
    """Each picture's score against its own character's other pictures (positives) and against every
    other character's pictures (negatives): the mean of the ``top`` best cosines."""
    from animstudio.image.consistency import top_mean

    same, other = [], []
    for name, rows in vectors.items():
        for i, v in enumerate(rows):
            for ref_name, refs in vectors.items():
                if ref_name == name:
                    refs = np.delete(refs, i, axis=0)
                (same if ref_name == name else other).append(top_mean(refs @ v, top))
    return np.array(same), np.array(other)


def same_vs_other_auc(groups: dict[str, list[Any]], embedder: Any, top: int | None = None) -> float:
    """The ROC AUC of same-character vs other-character scores over ``groups`` (name -> pictures)."""
    from animstudio.image.consistency import TOP_K

    vectors = {name: embedder.embed(images) for name, images in groups.items()}
    return roc_auc(*group_scores(vectors, top or TOP_K))
