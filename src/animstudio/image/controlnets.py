"""ControlNets in a generation: their models (diffusers folders or single files in the warehouse),
held through the model broker, several at once with a scale and a start/end each, and their
control images (preprocessed from a reference picture when the request names a preprocessor, and
fitted to the generation's size).

    control_pipeline(pipe, request, checkpoint, "cuda")   # shares the loaded pipeline's parts
    control_arguments(request)                            # image=, controlnet_conditioning_scale=, ...
"""

from __future__ import annotations

import logging
import re
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from animstudio.errors import InvalidInputError
from animstudio.image.base import Control, ImageRequest
from animstudio.image.checkpoints import Checkpoint, load_weights, require

log = logging.getLogger(__name__)
VIDEO_SHOT = re.compile(r"\.(mp4|mkv|mov|webm|avi|m4v):\d+$", re.IGNORECASE)


def _load_controlnet(path: Path, dtype: Any, device: str) -> Any:
    from diffusers import ControlNetModel

    return load_weights(ControlNetModel, require(path, "controlnet"), dtype, "the ControlNet ").to(device)


def _controlnet(control: Control, dtype: Any, device: str, held: ExitStack) -> Any:
    """The ControlNet, loaded through the broker and held until ``held`` closes (the generation's end)."""
    from animstudio.image.diffusers_backend import resolve_checkpoint
    from animstudio.models.broker import DROP, broker, torch_moves

    path = resolve_checkpoint(control.model)
    name = f"controlnet:{path.name}:{str(dtype).removeprefix('torch.')}:{device}"
    on_gpu = device == "cuda"
    return held.enter_context(broker().use(name, lambda: _load_controlnet(path, dtype, device),
                                           device="gpu" if on_gpu else "ram", moves=torch_moves() if on_gpu else DROP))


def control_pipeline(pipe: Any, request: ImageRequest, found: Checkpoint, device: str, held: ExitStack) -> Any:
    """A ControlNet pipeline over ``pipe``'s loaded parts, with the request's ControlNets (held in
    ``held``)."""
    import diffusers
    from diffusers.models.controlnets.multicontrolnet import MultiControlNetModel

    from animstudio.image.diffusers_backend import CONTROL_CLASSES

    expected = pipe.unet.config.cross_attention_dim
    models = []
    for control in request.controls:
        model = _controlnet(control, pipe.unet.dtype, device, held)
        cross = getattr(model.config, "cross_attention_dim", None)
        if cross != expected:
            raise InvalidInputError(f"ControlNet {control.model!r} was made for another base model (text width "
                                    f"{cross}, the checkpoint's {expected}); use a ControlNet for {found.kind}")
        models.append(model)
    controlnet = models[0] if len(models) == 1 else MultiControlNetModel(models)
    cls = getattr(diffusers, CONTROL_CLASSES[found.kind])
    runner = cls.from_pipe(pipe, controlnet=controlnet)
    runner.set_progress_bar_config(disable=True)
    return runner


def control_image(control: Control, width: int, height: int) -> Any:
    """The control image of ``control``: read, preprocessed when it names a preprocessor, and fitted to
    width x height (a note in the log when it had to be resized)."""
    from PIL import Image, UnidentifiedImageError

    path = Path(control.image).expanduser()
    if not path.exists() and VIDEO_SHOT.search(control.image):
        # VIDEO:SHOT: the middle frame of a shot of a film, so new frames keep its composition
        from animstudio.image.control import frame_from_shot, parse_shot_ref

        video, shot = parse_shot_ref(control.image)
        return _fitted(_preprocessed(frame_from_shot(video, shot), control), width, height, path.name)
    try:
        with Image.open(path) as opened:
            image = opened.convert("RGB")
    except FileNotFoundError:
        raise InvalidInputError(f"no control image at {path}; give a picture file") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise InvalidInputError(f"{path} is not a picture ({exc}); give a PNG or JPEG") from None
    return _fitted(_preprocessed(image, control), width, height, path.name)


def _preprocessed(image: Any, control: Control) -> Any:
    if not control.preprocessor:
        return image
    from animstudio.plugins import get_backend

    return get_backend("control_preprocessor", control.preprocessor)().process(image)


def _fitted(image: Any, width: int, height: int, what: str) -> Any:
    """``image`` at the generation's size (centre-cropped and resized, said in the log, when it is not)."""
    if image.size == (width, height):
        return image
    from animstudio.image.control import resize_control

    image, note = resize_control(image, width, height)
    if note:
        log.warning("%s: %s", what, note)
    return image


def control_arguments(request: ImageRequest) -> dict[str, Any]:
    """The ControlNet pipeline's arguments for the request's controls."""
    images = [control_image(c, request.width, request.height) for c in request.controls]
    for c in request.controls:
        if c.end <= c.start:
            raise InvalidInputError(f"control {c.model!r}: end ({c.end:g}) must come after start ({c.start:g})")
    one = len(images) == 1
    scales = [c.scale for c in request.controls]
    return {"image": images[0] if one else images,
            "controlnet_conditioning_scale": scales[0] if one else scales,
            "control_guidance_start": [c.start for c in request.controls],
            "control_guidance_end": [c.end for c in request.controls]}
