"""What the image commands and tools take: one model per command, so the CLI flags, the tool's JSON
schema and the API's body come from the same fields."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from animstudio.image.base import ImageRequest


class GenerateRequest(ImageRequest):
    character: str | None = Field(None, description="the name of a character of the bible to draw (their "
                                                     "appearance, palette and LoRA join the prompt, which then says "
                                                     "the scene)")
    output: Path = Field(Path("images"), description="the folder the PNGs (and their JSON sidecars) go to")
    checkpoint: str | None = Field(None, description="a warehouse name, diffusers folder or .safetensors file; "
                                                     "default the image.checkpoint setting")
    backend: str = Field("diffusers", description="the image backend")
    device: Literal["auto", "cuda", "cpu"] = Field("auto", description="where to run: auto (cuda when present)")
    precision: Literal["auto", "fp16", "bf16", "fp32"] = Field(
        "auto", description="weights' precision: auto (fp16 on a GPU, fp32 on CPU)")
    name: str = Field("image", pattern=r"^[A-Za-z0-9_.-]+$", description="file name stem: NAME-SEED.png")


class Generated(BaseModel):
    model_config = ConfigDict(extra="forbid")

    files: list[Path] = Field(description="the PNGs written, in seed order")
    seeds: list[int] = Field(description="each image's seed")
    checkpoint: str = Field(description="the checkpoint used")
    seconds: float = Field(description="time spent generating")


class Renders(BaseModel):
    """Where an image request runs: the checkpoint, backend and device."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    checkpoint: str | None = Field(None, description="a warehouse name, diffusers folder or .safetensors file; "
                                                     "default the image.checkpoint setting")
    backend: str = Field("diffusers", description="the image backend")
    device: Literal["auto", "cuda", "cpu"] = Field("auto", description="where to run: auto (cuda when present)")


class SheetRequest(Renders):
    character: str = Field(min_length=1, description="a character of the knowledge base's bible")
    output: Path = Field(description="the sheet, a .png (each view is also written beside it)")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="one seed for every view, so they share a look")
    width: int = Field(512, ge=64, le=4096, multiple_of=8, description="each view's width, pixels")
    height: int = Field(768, ge=64, le=4096, multiple_of=8, description="each view's height, pixels")
    steps: int = Field(30, ge=1, le=200, description="denoising steps")
    sampler: str = Field("DPM++ 2M Karras", description="the sampler, by its A1111 name")
    pose_control: str | None = Field(None, description="an OpenPose ControlNet that holds each view to its pose "
                                                       "skeleton")


class Sheet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sheet: Path = Field(description="the sheet: front, side and back side by side")
    views: dict[str, Path] = Field(description="each view alone")
    seed: int
    prompts: dict[str, str] = Field(description="each view's prompt")


class CheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    images: list[str] = Field(min_length=1, description="pictures or folders of them to check")
    references: list[str] = Field(min_length=1, description="reference pictures, folders, or a character name "
                                                            "with references in the studio home")
    embedder: str = Field("palette", description="the appearance embedder")
    threshold: float | None = Field(None, ge=-1, le=1, description="the score a picture needs (default: the "
                                                                   "embedder's measured one)")


class Checked(BaseModel):
    model_config = ConfigDict(extra="forbid")

    results: list[dict[str, object]] = Field(description="per picture: image, score, threshold, same")
