"""The image kinds' interfaces: an image backend (``generate(request) -> images``), an appearance
embedder (``embed(images) -> vectors``: pictures of one character lie close together) and a control
preprocessor (``process(image) -> the control image`` a ControlNet reads: edges, line art, pose...).

A backend is registered through the ``register_image_backends`` hook; its nested ``Options`` model
holds what is fixed for the backend (model, device, precision), the request what changes per image.

    class Flat(ImageBackend):
        name = "flat"
        def generate(self, request):
            return [Image.new("RGB", (request.width, request.height), "gray")] * request.count
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from animstudio.backend import Backend
from animstudio.errors import MissingDependencyError
from animstudio.progress import ProgressCallback, ignore

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image


PRESETS: dict[str, dict[str, Any]] = {
    # steps, guidance and the long side in pixels (SD 1.5 models halve it): quick looks, the usual
    # quality, and more steps for finals
    "draft": {"steps": 12, "guidance": 5.0, "size": 768},
    "standard": {"steps": 30, "guidance": 6.0, "size": 1024},
    "high": {"steps": 50, "guidance": 7.0, "size": 1024},
}


class Control(BaseModel):
    """One ControlNet's input: its model, the control image and how strongly and when it steers."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    model: str = Field(min_length=1, description="the ControlNet: a warehouse name or a diffusers folder")
    image: str = Field(min_length=1, description="the control image (already preprocessed), a reference picture "
                                                 "with preprocessor set, or VIDEO:SHOT for a shot's middle frame "
                                                 "(clip.mp4:3; shots count from 1)")
    preprocessor: str | None = Field(None, description="turn image into the control image first (canny, lineart, "
                                                       "scribble, segmentation, pose, depth, normal)")
    scale: float = Field(1.0, ge=0, le=2, description="how strongly it steers")
    start: float = Field(0.0, ge=0, le=1, description="fraction of the steps where it starts steering")
    end: float = Field(1.0, ge=0, le=1, description="fraction of the steps where it stops")


class ImageRequest(BaseModel):
    """What to draw: the prompt and the size, seed and number of images."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    prompt: str = Field(min_length=1, max_length=4000, description="what the picture shows; A1111 weights such "
                                                                   "as (word:1.2) and <lora:name:0.8> work")
    negative_prompt: str = Field("", max_length=4000, description="what it must not show")
    width: int = Field(1024, ge=64, le=4096, multiple_of=8, description="pixels")
    height: int = Field(1024, ge=64, le=4096, multiple_of=8, description="pixels")
    steps: int = Field(30, ge=1, le=200, description="denoising steps")
    guidance: float = Field(5.0, ge=0, le=30, description="how closely to follow the prompt (CFG scale)")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="the same seed gives the same picture; image i of a "
                                                         "request uses seed + i")
    count: int = Field(1, ge=1, le=64, description="images to make")
    sampler: str = Field("DPM++ 2M Karras", description="the sampler, by its A1111 name (Euler a, DPM++ 2M "
                                                       "Karras, UniPC, LCM, ...)")
    preset: Literal["draft", "standard", "high"] | None = Field(
        None, description="quality preset: sets steps, guidance and size unless they are given")
    loras: dict[str, float] = Field(default_factory=dict, description="LoRA name (from the registry) or file -> "
                                                                      "weight")
    controls: list[Control] = Field(default_factory=list, description="ControlNets steering the picture")
    refiner: str | None = Field(None, description="an SDXL refiner checkpoint (warehouse name, folder or "
                                                  ".safetensors file) that finishes the last denoising steps")
    refiner_switch: float = Field(0.8, gt=0, lt=1, description="share of the denoising the base does before the "
                                                                "refiner takes over (A1111's 'switch at')")

    @model_validator(mode="after")
    def _preset(self) -> ImageRequest:
        """A preset fills steps, guidance and the size, keeping what the request gave."""
        if self.preset is None:
            return self
        given, preset = self.model_fields_set, PRESETS[self.preset]
        if "steps" not in given:
            self.steps = preset["steps"]
        if "guidance" not in given:
            self.guidance = preset["guidance"]
        if not given & {"width", "height"}:
            self.width = self.height = preset["size"]
        return self


class ImageBackend(Backend):
    """Base of image generation backends."""

    @abstractmethod
    def generate(self, request: ImageRequest, on_progress: ProgressCallback = ignore) -> list[Any]:
        """``request.count`` images (PIL images) for the request, in seed order; each denoising step is
        reported to ``on_progress``."""


class AppearanceEmbedder(Backend):
    """Base of appearance embedders: one vector per picture of a character, unit length, so that the
    cosine of two pictures of one character is high and of two characters low (faces are not
    assumed: cartoon characters defeat face recognition)."""

    @abstractmethod
    def embed(self, images: list[Image.Image]) -> np.ndarray:
        """An (n, dim) float32 array of unit vectors, one row per image (RGBA alpha, where present,
        marks the character)."""


class ControlPreprocessor(Backend):
    """Base of control preprocessors: turns a reference picture into the control image one kind of
    ControlNet reads (canny edges, line art, scribble, pose skeleton, segmentation, depth, normals)."""

    @abstractmethod
    def process(self, image: Image.Image) -> Image.Image:
        """The control image, RGB, the size of ``image``."""


def torch_and(library: str, what: str) -> Any:
    """torch, once ``library`` (diffusers, transformers) imports too; otherwise the error names the
    ``image`` extra that installs them, and ``what`` needs it."""
    import importlib

    try:
        importlib.import_module(library)
        import torch
    except ImportError as exc:
        raise MissingDependencyError.for_extra(exc.name or library, "image", what) from exc
    return torch
