"""Does a picture show the same character as its references? A character's reference pictures (files,
folders, or the character's folder in the studio home), a score per picture, and the check against a
threshold.

    add_references("robot", ["sheets/robot/"])          # copied to <home>/characters/robot/references
    results = check(["out/robot_000.png"], "robot")      # [CheckResult(image=..., score=0.93, same=True)]
    score(Image.open("a.png"), references("robot"), PaletteEmbedder())
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from animstudio.errors import InvalidInputError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
TOP_K = 3     # a picture's score: the mean cosine of its TOP_K nearest references (poses differ; the
              # nearest few are the ones in a similar pose, and more than one keeps a stray match down)

# The palette embedder's threshold, from kenney_toon (benchmarks/consistency_auc.py: 6 characters x 13
# poses, each picture scored against its own character's 12 other poses and against each other
# character's 13, composited without alpha on random flat and noisy backgrounds, 3 seeds): the midpoint
# of the 5th percentile of same-character scores (0.921) and the 95th percentile of other-character
# scores (0.885), 0.903, rounded down. Chosen on the data it is measured on; another art style may
# want its own (check(threshold=...)).
THRESHOLDS = {"palette": 0.90}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")
Picture = str | os.PathLike | Any      # a path, or a PIL image


class CheckResult(BaseModel):
    """One picture's check against a character's references."""

    image: str = Field(description="the picture: its path, or 'image N' for one given in memory")
    score: float = Field(description="mean cosine similarity of its nearest references (higher: more alike)")
    threshold: float = Field(description="the score at and above which it counts as the same character")
    same: bool = Field(description="whether it shows the same character")


# ------------------------------------------------------------------ reference pictures

def reference_folder(name: str) -> Path:
    """Where the studio keeps a character's reference pictures."""
    from animstudio.config import load_settings

    if not NAME.match(name) or name.strip(" .") != name:
        raise InvalidInputError(f"{name!r} is not a character name: use letters, digits, spaces, '_', '-' or '.' "
                                f"(64 at most, not starting with a dot or space)")
    return load_settings().home / "characters" / name / "references"


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES


def image_files(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """The picture files named by ``paths``: files, folders of pictures (png, jpg, webp) or character
    names with references in the studio home. A missing path or an empty folder is an InvalidInputError."""
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    found: list[Path] = []
    for item in items:
        path = Path(item).expanduser()
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if _is_image(p))
            if not inside:
                raise InvalidInputError(f"{path} holds no pictures; put png, jpg or webp files of the character in it")
            found.extend(inside)
        elif path.is_file():
            found.append(path)
        elif isinstance(item, str) and NAME.match(item) and reference_folder(item).is_dir():
            found.extend(references(item))
        else:
            raise InvalidInputError(f"{item}: no such file, folder or character with references; check the path, "
                                    f"or add the character's pictures with add_references")
    return found


def open_image(path: str | os.PathLike) -> Any:
    """The picture at ``path``, loaded; InvalidInputError when it is missing or not a picture."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            return image.copy() if image.mode in ("RGB", "RGBA", "L", "LA", "P", "PA") else image.convert("RGBA")
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file; check the path") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidInputError(f"{path} is not a readable picture ({type(exc).__name__}); pass a png, jpg or webp "
                                f"file") from None


def add_references(name: str, paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    """Copy the pictures in ``paths`` (files or folders) into the character's reference folder; each is
    checked to be a readable picture first. A picture already there is not copied twice. Returns the
    stored files."""
    folder = reference_folder(name)
    sources = image_files(paths)
    for source in sources:
        open_image(source)
    folder.mkdir(parents=True, exist_ok=True)
    have = {hashlib.sha256(p.read_bytes()).hexdigest(): p for p in folder.iterdir() if _is_image(p)}
    stored = []
    for source in sources:
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
        if digest in have:
            stored.append(have[digest])
            continue
        suffix = source.suffix.lower() if source.suffix.lower() in IMAGE_SUFFIXES else ".png"
        target = folder / f"{source.stem}{suffix}"
        if target.exists():
            target = folder / f"{source.stem}-{digest[:8]}{suffix}"
        temp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(source, temp)
        temp.replace(target)
        have[digest] = target
        stored.append(target)
    return stored


def references(name: str) -> list[Path]:
    """The character's reference pictures in the studio home (an empty list when it has none)."""
    folder = reference_folder(name)
    return sorted(p for p in folder.iterdir() if _is_image(p)) if folder.is_dir() else []


# ------------------------------------------------------------------ scoring

def top_mean(similarities: np.ndarray, top: int = TOP_K) -> float:
    """The mean of the ``top`` largest values (all of them when there are fewer)."""
    k = min(top, len(similarities))
    return float(np.mean(np.partition(similarities, len(similarities) - k)[-k:]))


def _pictures(items: Picture | Sequence[Picture]) -> tuple[list[str], list[Any]]:
    """Labels and loaded pictures for paths, folders, character names and in-memory images."""
    if isinstance(items, str | os.PathLike) or hasattr(items, "mode"):
        items = [items]
    labels, images = [], []
    for i, item in enumerate(items):
        if hasattr(item, "mode"):
            labels.append(f"image {i}")
            images.append(item)
            continue
        for path in image_files(item):
            labels.append(str(path))
            images.append(open_image(path))
    return labels, images


def _vectors(references: Any, embedder: Any) -> np.ndarray:
    if isinstance(references, np.ndarray) and references.ndim == 2:
        refs = references
    else:
        pictures = _pictures(references)[1]
        refs = embedder.embed(pictures) if pictures else np.zeros((0, 0), np.float32)
    if len(refs) == 0:
        raise InvalidInputError("no reference pictures were given; pass pictures of the character (files, a folder, "
                                "or a character name with references)")
    return refs


def score(image: Picture, references: Any, embedder: Any) -> float:
    """How much ``image`` looks like the character in ``references`` (pictures, paths, a character name,
    or their (n, dim) vectors from ``embedder``): the mean of the TOP_K largest cosine similarities
    between the picture's vector and the references' vectors, so one reference in a similar pose is
    enough and one stray match is not."""
    refs = _vectors(references, embedder)
    vector = embedder.embed(_pictures(image)[1][:1])[0]
    return top_mean(refs @ vector)


def default_threshold(embedder: Any) -> float:
    """The threshold measured for ``embedder``; InvalidInputError for one that has none."""
    name = getattr(embedder, "name", "")
    if name not in THRESHOLDS:
        raise InvalidInputError(f"the {name or type(embedder).__name__} embedder has no measured threshold; give one "
                                f"(a cosine similarity, e.g. from pictures of known characters)")
    return THRESHOLDS[name]


def check(images: Picture | Sequence[Picture], refs: Any, embedder: Any = None,
          threshold: float | None = None) -> list[CheckResult]:
    """Whether each picture in ``images`` shows the character in ``refs`` (reference pictures, paths,
    folders or a character name): its score against the references, and ``same`` when the score is
    at least ``threshold`` (default: the embedder's measured one). ``embedder`` is an appearance
    embedder, or its registered name; default the embedded ``palette``."""
    if embedder is None:
        from animstudio.image.appearance import PaletteEmbedder

        embedder = PaletteEmbedder()
    elif isinstance(embedder, str):
        from animstudio.plugins import get_backend

        embedder = get_backend("appearance_embedder", embedder)()
    limit = default_threshold(embedder) if threshold is None else float(threshold)
    labels, pictures = _pictures(images)
    if not pictures:
        raise InvalidInputError("no pictures to check; pass picture files or a folder of them")
    ref_vectors = _vectors(refs, embedder)
    vectors = embedder.embed(pictures)
    return [CheckResult(image=label, score=(s := top_mean(ref_vectors @ v)), threshold=limit, same=s >= limit)
            for label, v in zip(labels, vectors, strict=True)]
