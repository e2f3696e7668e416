"""Image generation: registered image backends (kind ``image_backend``)."""

from __future__ import annotations

from animstudio.image.base import AppearanceEmbedder, ControlPreprocessor, ImageBackend, ImageRequest

__all__ = ["AppearanceEmbedder", "ControlPreprocessor", "ImageBackend", "ImageRequest"]
