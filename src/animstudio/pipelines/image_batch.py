"""The image-batch pipeline: pictures for prompts x seeds x presets as a durable job (the HTTP API's
``image-batch`` kind). A resumed job makes only the pictures its folder does not hold yet.

    ImageBatch(prompts=["a fox in the snow"], seeds=[1, 2], checkpoint="sdxl-base").run("out/")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, field_validator

from animstudio.backend import Backend
from animstudio.jobs.runner import Context, StepFn
from animstudio.pipelines.base import Pipeline


def step_images(ctx: Context) -> dict[str, Any]:
    from animstudio.image.batch import BatchRequest, run_batch

    p = ctx.params
    done = run_batch(BatchRequest(prompts=p.prompts, seeds=p.seeds, presets=p.presets, checkpoint=p.checkpoint,
                                  device=p.device, negative_prompt=p.negative_prompt, width=p.width, height=p.height,
                                  steps=p.steps, sampler=p.sampler, output=ctx.path("images"),
                                  references=[Path(r) for r in p.references], threshold=p.threshold, retries=p.retries),
                     on_progress=ctx.on_progress)
    return {"images": "images", "made": done.made, "files": [f"images/{i.file}" for i in done.items],
            "scores": {f"images/{i.file}": i.score for i in done.items if i.score is not None}}


class ImageBatch(Pipeline):
    name = "image-batch"
    description = ("Pictures for prompts x seeds x presets with an SDXL or SD 1.5 checkpoint, each checked against "
                   "the character's reference pictures when given")
    artifacts: ClassVar[tuple[str, ...]] = ("images",)

    class Options(Backend.Options):
        prompts: list[str] = Field(min_length=1, max_length=500, description="what the pictures show")
        seeds: list[int] = Field(default_factory=lambda: [0], max_length=64, description="seeds each prompt is "
                                                                                        "made with")
        presets: list[str] = Field(default_factory=list, description="quality presets: draft, standard, high")
        negative_prompt: str | None = Field(None, max_length=4000, description="what no picture may show")
        width: int | None = Field(None, ge=64, le=4096, multiple_of=8, description="pixels")
        height: int | None = Field(None, ge=64, le=4096, multiple_of=8, description="pixels")
        steps: int | None = Field(None, ge=1, le=200, description="denoising steps")
        sampler: str | None = Field(None, description="the sampler, by its A1111 name")
        checkpoint: str | None = Field(None, description="a checkpoint in the warehouse by name, or a diffusers "
                                                         "folder or .safetensors file (on a server, in a served "
                                                         "folder); default the image.checkpoint setting")
        device: str = Field("auto", pattern="^(auto|cuda|cpu)$", description="where to run")
        references: list[str] = Field(default_factory=list, max_length=64, description="reference pictures (or "
                                      "folders of them) of the character: a picture scoring under the threshold "
                                      "is made again with a new seed")
        threshold: float | None = Field(None, ge=-1, le=1, description="the consistency score a picture must "
                                                                       "reach (default: the scorer's measured one)")
        retries: int = Field(2, ge=0, le=10, description="new seeds tried for a picture under the threshold")
        output: str | None = Field(None, description="a folder the pictures are copied to when the job is done")

        @field_validator("presets")
        @classmethod
        def _presets(cls, value: list[str]) -> list[str]:
            from animstudio.image.batch import BatchRequest

            return BatchRequest._presets(value)

    def check(self) -> None:
        from animstudio.image.batch import BatchRequest, expand
        from animstudio.image.diffusers_backend import resolve_checkpoint
        from animstudio.pipelines.params import check_output

        o = self.options
        resolve_checkpoint(o.checkpoint)   # a missing checkpoint is refused before a job exists
        if o.references:                   # and references that are not pictures
            from animstudio.image.consistency import image_files

            image_files(o.references)
        expand(BatchRequest(prompts=o.prompts, seeds=o.seeds, presets=o.presets, negative_prompt=o.negative_prompt,
                            width=o.width, height=o.height, steps=o.steps, sampler=o.sampler, output="unused"))
        check_output(o, self.name)   # type: ignore[arg-type]

    def steps(self) -> list[tuple[str, StepFn]]:
        return [("images", step_images)]
