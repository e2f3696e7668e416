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
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from animstudio.backend import Backend

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image


class ImageRequest(BaseModel):
    """What to draw: the prompt and the size, seed and number of images."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    prompt: str = Field(min_length=1, max_length=2000, description="what the picture shows")
    negative_prompt: str = Field("", max_length=2000, description="what it must not show")
    width: int = Field(1024, ge=64, le=4096, multiple_of=8, description="pixels")
    height: int = Field(1024, ge=64, le=4096, multiple_of=8, description="pixels")
    steps: int = Field(30, ge=1, le=200, description="denoising steps")
    guidance: float = Field(5.0, ge=0, le=30, description="how closely to follow the prompt")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="the same seed gives the same picture")
    count: int = Field(1, ge=1, le=64, description="images to make")


class ImageBackend(Backend):
    """Base of image generation backends."""

    @abstractmethod
    def generate(self, request: ImageRequest) -> list[Any]:
        """``request.count`` images (PIL images) for the request, in seed order."""


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
    ControlNet reads (canny edges, line art, scribble, pose skeleton, segmentation, depth)."""

    @abstractmethod
    def process(self, image: Image.Image) -> Image.Image:
        """The control image, RGB, the size of ``image``."""
