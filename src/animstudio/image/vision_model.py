"""An appearance embedder from vision model weights the user adds to the warehouse (``vision-model``):
a transformers folder holding a CLIP vision model (its projected image embedding) or a DINOv2 model
(its pooled class token), loaded once through the model broker.

    emb = VisionModelEmbedder(model="clip-vit-base-patch32")   # a warehouse name or a folder
    emb.embed([Image.open("a.png"), Image.open("b.png")])      # (2, projection dim), unit rows
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from animstudio.errors import InvalidInputError
from animstudio.image.base import AppearanceEmbedder, torch_and
from animstudio.models.loaded import PerDevice

CLIP_TYPES = ("clip", "clip_vision_model")
DINO_TYPES = ("dinov2",)
# the pictures' normalisation when the folder has no preprocessor_config.json
CLIP_MEAN, CLIP_STD = (0.4815, 0.4578, 0.4082), (0.2686, 0.2613, 0.2758)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
FIX = "give a transformers folder of a CLIP vision model or a DINOv2 model (config.json and weights)"


def _torch() -> Any:
    return torch_and("transformers", "Vision model embeddings")


def model_folder(value: str) -> tuple[Path, str]:
    """The folder named by ``value`` (a path or a warehouse name) and its model type; a one-line
    InvalidInputError when it is missing or holds no CLIP or DINOv2 model."""
    from animstudio.config import load_settings

    path = Path(value).expanduser()
    if not path.exists():
        path = load_settings().warehouse / value
    if not path.is_dir():
        raise InvalidInputError(f"no vision model {value!r}: not a folder, nor a name in the warehouse; {FIX}")
    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        raise InvalidInputError(f"{path} has no readable config.json, so it holds no transformers model; "
                                f"{FIX}") from None
    kind = str(config.get("model_type", "")) if isinstance(config, dict) else ""
    if kind not in CLIP_TYPES + DINO_TYPES:
        raise InvalidInputError(f"{path} holds a {kind or 'untyped'} model, not a vision model; {FIX}")
    return path, kind


def image_processor(folder: str | Path) -> Any:
    """The folder's image processor (``preprocessor_config.json``), on PIL: transformers 5's default
    backend needs torchvision, which the studio does not install."""
    import transformers

    try:
        named = str(json.loads((Path(folder) / "preprocessor_config.json").read_text()).get("image_processor_type", ""))
    except (OSError, ValueError, AttributeError):
        named = ""
    base = named.removesuffix("Fast")
    for candidate in (f"{base}Pil", base) if base else ():
        cls = getattr(transformers, candidate, None)
        if cls is None:
            continue
        try:
            return cls.from_pretrained(folder, local_files_only=True)
        except ImportError:   # a placeholder for a backend that is not installed
            continue
    return transformers.AutoImageProcessor.from_pretrained(folder, local_files_only=True)


def _load(key: tuple[str, str, str]) -> tuple[Any, Any]:
    """(model, processor or None) for (folder, model type, device)."""
    folder, kind, device = key
    _torch()
    import transformers
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()   # no loading bars in the middle of our own output
    cls = transformers.CLIPVisionModelWithProjection if kind in CLIP_TYPES else transformers.AutoModel
    try:
        model = cls.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidInputError(f"could not load the vision model in {folder}: {str(exc).splitlines()[0]}; "
                                f"{FIX}") from None
    processor = None
    if (Path(folder) / "preprocessor_config.json").is_file():
        processor = image_processor(folder)
    return model.to(device).eval(), processor


def _name(key: tuple[str, str, str]) -> str:
    return f"vision-model:{key[0]}:{key[2]}"


_MODELS: PerDevice[tuple[str, str, str], tuple[Any, Any]] = PerDevice(_load, name=_name)


def on_white(image: Any) -> Any:
    """The picture as RGB, on white where it has alpha."""
    from PIL import Image

    if image.mode == "RGB":
        return image
    flat = Image.new("RGBA", image.size, (255, 255, 255, 255))
    flat.alpha_composite(image.convert("RGBA"))
    return flat.convert("RGB")


def pixels(images: list[Any], size: int, mean: tuple[float, ...], std: tuple[float, ...]) -> np.ndarray:
    """(n, 3, size, size) float32: each picture on white, its short side scaled to
    ``size`` and centre-cropped, normalised by ``mean`` and ``std``."""
    from PIL import Image

    out = np.empty((len(images), 3, size, size), np.float32)
    for i, image in enumerate(images):
        flat = on_white(image)
        scale = size / min(flat.size)
        w, h = max(size, round(flat.width * scale)), max(size, round(flat.height * scale))
        resized = flat.resize((w, h), Image.BICUBIC)
        left, top = (w - size) // 2, (h - size) // 2
        arr = np.asarray(resized.crop((left, top, left + size, top + size)), np.float32) / 255.0
        out[i] = ((arr - mean) / std).transpose(2, 0, 1)
    return out


class VisionModelEmbedder(AppearanceEmbedder):
    name = "vision-model"
    description = "image embeddings of a CLIP or DINOv2 vision model you add to the warehouse (transformers folder)"

    class Options(AppearanceEmbedder.Options):
        model: str = Field(min_length=1, description="the vision model: a warehouse name or a transformers folder "
                                                     "(CLIP vision or DINOv2)")
        device: Literal["auto", "cuda", "cpu"] = Field("auto", description="where to run: auto (cuda when present)")
        batch_size: int = Field(16, ge=1, le=256, description="pictures per forward pass")

    def _device(self) -> str:
        torch = _torch()
        wanted = self.options.device
        if wanted == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if wanted == "cuda" and not torch.cuda.is_available():
            raise InvalidInputError("device cuda was asked for but torch sees no CUDA GPU; use --device cpu or auto")
        return wanted

    def embed(self, images: list[Any]) -> np.ndarray:
        folder, kind = model_folder(self.options.model)
        torch = _torch()
        device = self._device()
        rows = []
        loaded = _MODELS.on(device).use((str(folder.resolve()), kind, device))
        with loaded as (model, processor), torch.inference_mode():
            for start in range(0, len(images), self.options.batch_size):
                batch = images[start:start + self.options.batch_size]
                if processor is not None:
                    values = processor(images=[on_white(im) for im in batch], return_tensors="pt")["pixel_values"]
                else:
                    mean, std = (CLIP_MEAN, CLIP_STD) if kind in CLIP_TYPES else (IMAGENET_MEAN, IMAGENET_STD)
                    values = torch.from_numpy(pixels(batch, int(model.config.image_size), mean, std))
                output = model(pixel_values=values.to(device, model.dtype))
                pooled = output.image_embeds if kind in CLIP_TYPES else output.pooler_output
                rows.append(torch.nn.functional.normalize(pooled.float(), dim=-1).cpu().numpy())
        dim = rows[0].shape[1] if rows else 0
        return np.concatenate(rows).astype(np.float32) if rows else np.zeros((0, dim), np.float32)

