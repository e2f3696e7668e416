"""Depth and normal control images from a depth-estimation model the user adds to the warehouse (a
transformers folder: Depth Anything, DPT/MiDaS, GLPN, ...). No registry package ships such weights,
so both preprocessors name the setting to fill when none is given.

    Depth(model="depth-anything-v2-small").process(frame)    # near is white, far is black
    Normal(model="depth-anything-v2-small").process(frame)   # surface normals as RGB (x, y, z)

The model is loaded once through the model broker. Depth models answer in relative inverse depth
(larger: nearer), which is what depth ControlNets were trained on, so the map is that answer
stretched to 0-255 at the picture's size.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image
from pydantic import Field

from animstudio.errors import InvalidInputError
from animstudio.image.base import ControlPreprocessor, torch_and
from animstudio.models.loaded import PerDevice

FIX = ("add a transformers depth-estimation folder (e.g. Depth Anything V2 Small) to the warehouse with "
       "`animstudio models add FOLDER`, then give it as the image.depth_model setting")


def _torch() -> Any:
    return torch_and("transformers", "Depth control images")


def depth_folder(value: str | None) -> Path:
    """The folder of the depth model named by ``value`` (a path or a warehouse name; default the
    image.depth_model setting); a one-line InvalidInputError when there is none."""
    from animstudio.config import load_settings

    settings = load_settings()
    value = value or settings.image.depth_model
    if not value:
        raise InvalidInputError(f"depth and normal control images need a depth model: {FIX}")
    path = Path(value).expanduser()
    if not path.exists():
        path = settings.warehouse / value
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InvalidInputError(f"no depth model {value!r}: no transformers folder (config.json) there; "
                                f"{FIX}") from None
    _torch()
    from transformers.models.auto.modeling_auto import MODEL_FOR_DEPTH_ESTIMATION_MAPPING_NAMES

    kind = config.get("model_type", "") if isinstance(config, dict) else ""
    if kind not in MODEL_FOR_DEPTH_ESTIMATION_MAPPING_NAMES:
        raise InvalidInputError(f"{path} holds a {kind or 'untyped'} model, not a depth-estimation model; {FIX}")
    return path


def _load(key: tuple[str, str]) -> tuple[Any, Any]:
    folder, device = key
    _torch()
    import transformers
    from transformers.utils import logging as hf_logging

    from animstudio.image.vision_model import image_processor

    hf_logging.disable_progress_bar()
    try:
        model = transformers.AutoModelForDepthEstimation.from_pretrained(folder, local_files_only=True)
        processor = image_processor(folder)
    except (OSError, ValueError, KeyError) as exc:
        raise InvalidInputError(f"could not load the depth model in {folder}: {str(exc).splitlines()[0]}; "
                                f"{FIX}") from None
    return model.to(device).eval(), processor


def _name(key: tuple[str, str]) -> str:
    return f"depth-model:{key[0]}:{key[1]}"


_MODELS: PerDevice[tuple[str, str], tuple[Any, Any]] = PerDevice(_load, name=_name)


def estimate(image: Image.Image, model: str | None = None, device: str = "auto") -> np.ndarray:
    """(H, W) float32 relative inverse depth of ``image`` (larger: nearer) at its own size."""
    from animstudio.image.vision_model import on_white

    torch = _torch()
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    folder = depth_folder(model)
    picture = on_white(image)
    with _MODELS.on(device).use((str(folder.resolve()), device)) as (net, processor), torch.inference_mode():
        values = processor(images=picture, return_tensors="pt")["pixel_values"].to(device, net.dtype)
        depth = net(pixel_values=values).predicted_depth
        depth = torch.nn.functional.interpolate(depth[:, None].float(), size=(picture.height, picture.width),
                                                mode="bicubic", align_corners=False)[0, 0]
    return depth.cpu().numpy().astype(np.float32)


def stretch(values: np.ndarray) -> np.ndarray:
    """``values`` scaled to 0-1 (all zeros when flat)."""
    low, high = float(values.min()), float(values.max())
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def normals(depth: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """(H, W, 3) unit surface normals of an inverse-depth map: x to the right, y up, z towards the
    viewer (a flat map faces the viewer)."""
    import cv2

    near = stretch(depth) * strength
    dx = cv2.Sobel(near, cv2.CV_32F, 1, 0, ksize=3)
    dy = cv2.Sobel(near, cv2.CV_32F, 0, 1, ksize=3)
    # nearness rising to the right means the surface faces left; rows grow downwards, so y is flipped
    n = np.stack([-dx, dy, np.ones_like(near)], axis=-1)
    return n / np.linalg.norm(n, axis=-1, keepdims=True)


class _DepthOptions(ControlPreprocessor.Options):
    model: str | None = Field(None, description="the depth model: a warehouse name or transformers folder; default "
                                                "the image.depth_model setting")
    device: Literal["auto", "cuda", "cpu"] = Field("auto", description="where to run: auto (cuda when present)")


class Depth(ControlPreprocessor):
    name = "depth"
    description = "a depth map (near is white) from a depth-estimation model in the warehouse"
    Options = _DepthOptions

    def process(self, image: Image.Image) -> Image.Image:
        gray = np.round(stretch(estimate(image, self.options.model, self.options.device)) * 255).astype(np.uint8)
        return Image.fromarray(np.repeat(gray[:, :, None], 3, axis=2))


class Normal(ControlPreprocessor):
    name = "normal"
    description = "surface normals as RGB (x right, y up, z to the viewer) from a depth model in the warehouse"

    class Options(_DepthOptions):
        strength: float = Field(8.0, gt=0, le=100, description="how steep the depth's slopes are taken to be")

    def process(self, image: Image.Image) -> Image.Image:
        n = normals(estimate(image, self.options.model, self.options.device), self.options.strength)
        return Image.fromarray(np.round((n + 1) * 127.5).clip(0, 255).astype(np.uint8))
