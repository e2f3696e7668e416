"""What the image commands and tools take: one model per command, so the CLI flags, the tool's JSON
schema and the API's body come from the same fields."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from animstudio.image.base import ImageRequest


class GenerateRequest(ImageRequest):
    output: Path = Field(Path("images"), description="the folder the PNGs (and their JSON sidecars) go to")
    checkpoint: str | None = Field(None, description="a warehouse name, diffusers folder or .safetensors file; "
                                                     "default the image.checkpoint setting")
    backend: str = Field("diffusers", description="the image backend")
    device: Literal["auto", "cuda", "cpu"] = Field("auto", description="where to run: auto (cuda when present)")
    precision: Literal["auto", "fp16", "bf16", "fp32"] = Field(
        "auto", description="weights' precision: auto (fp16 on a GPU, fp32 on CPU)")
    name: str = Field("image", pattern=r"^[\w.-]+$", description="file name stem: NAME-SEED.png")


class Generated(BaseModel):
    model_config = ConfigDict(extra="forbid")

    files: list[Path] = Field(description="the PNGs written, in seed order")
    seeds: list[int] = Field(description="each image's seed")
    checkpoint: str = Field(description="the checkpoint used")
    seconds: float = Field(description="time spent generating")
