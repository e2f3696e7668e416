"""The ``diffusers`` image backend: SDXL, SDXL-Turbo and SD 1.5 checkpoints (a diffusers folder, or
one A1111/Civitai-style ``.safetensors`` file) with LoRAs and ControlNets.

    backend = DiffusersBackend(checkpoint="~/models/sdxl-base")
    images = backend.generate(ImageRequest(prompt="a fox in a cel-shaded forest", seed=7, count=2))

fp16 on a GPU (bf16 by choice), float32 on CPU; SDPA attention (diffusers' default; never
xformers). Each image has its own generator seeded ``seed + i``, so image i is the same whatever the
batch. The pipeline is held through the model broker (offloaded to RAM when another model needs
the GPU); LoRAs are peft adapters set per request without reloading the base.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from animstudio.errors import InvalidInputError
from animstudio.hookspecs import hookimpl
from animstudio.image.base import ImageBackend, ImageRequest, torch_and
from animstudio.image.checkpoints import Checkpoint, load_weights, require
from animstudio.progress import Progress, ProgressCallback, ignore

PIPELINE_CLASSES = {"sdxl": "StableDiffusionXLPipeline", "sd15": "StableDiffusionPipeline",
                    "sdxl-refiner": "StableDiffusionXLImg2ImgPipeline"}
CONTROL_CLASSES = {"sdxl": "StableDiffusionXLControlNetPipeline", "sd15": "StableDiffusionControlNetPipeline"}
GET_ONE = ("no checkpoint is set: put an SDXL or SD 1.5 model in the warehouse (e.g. sd_xl_base_1.0.safetensors "
           "from Stability AI) with `animstudio models add FILE`, then give it with --checkpoint or the "
           "image.checkpoint setting")


def _torch() -> Any:
    return torch_and("diffusers", "Image generation")


def resolve_checkpoint(value: str | None) -> Path:
    """A checkpoint given as a path, or as a name in the warehouse (a file or folder there)."""
    from animstudio.config import load_settings

    settings = load_settings()
    value = value or settings.image.checkpoint
    if not value:
        raise InvalidInputError(GET_ONE)
    path = Path(value).expanduser()
    if path.exists():
        return path
    for candidate in (settings.warehouse / value, settings.warehouse / f"{value}.safetensors"):
        if candidate.exists():
            return candidate
    raise InvalidInputError(f"no checkpoint {value!r}: not a path, nor a name in the warehouse {settings.warehouse}; "
                            "add it with `animstudio models add FILE`")


class DiffusersBackend(ImageBackend):
    name = "diffusers"
    description = "SDXL, SDXL-Turbo and SD 1.5 checkpoints through diffusers, with LoRAs and ControlNets"

    class Options(ImageBackend.Options):
        checkpoint: str | None = Field(None, description="a warehouse name, diffusers folder or .safetensors file; "
                                                         "default the image.checkpoint setting")
        device: Literal["auto", "cuda", "cpu"] = Field("auto", description="where to run: auto (cuda when present)")
        precision: Literal["auto", "fp16", "bf16", "fp32"] = Field(
            "auto", description="weights' precision: auto (fp16 on a GPU, fp32 on CPU)")
        memory: Literal["auto", "full", "model-offload", "sequential-offload"] = Field(
            "auto", description="GPU memory mode: auto (what the GPU budget allows), the whole pipeline on the "
                                "card, or parts moved in as needed "
                                "(slower, for small cards)")
        vae_tiling: bool = Field(False, description="decode in tiles (large images on small cards)")
        config: str | None = Field(None, description="for a single-file checkpoint of an unusual architecture: a "
                                                     "diffusers folder whose configs describe it (default: the "
                                                     "studio's SDXL and SD 1.5 configs)")
        compile: bool = Field(False, description="torch.compile the UNet on a GPU (slow first image; the compile "
                                                 "cache is kept in the studio home)")

    # ------------------------------------------------------------ loading

    def _device(self) -> str:
        torch = _torch()
        wanted = self.options.device
        if wanted == "auto":
            from animstudio.config import load_settings

            wanted = load_settings().image.device
        if wanted == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if wanted == "cuda" and not torch.cuda.is_available():
            raise InvalidInputError("device cuda was asked for but torch sees no CUDA GPU; use --device cpu or auto")
        return wanted

    def _dtype(self, device: str) -> Any:
        torch = _torch()
        precision = self.options.precision
        if precision == "auto":
            precision = "fp16" if device == "cuda" else "fp32"
        if device == "cpu" and precision == "fp16":
            raise InvalidInputError("fp16 runs only on a GPU; use --precision fp32 (or bf16) on CPU")
        return {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[precision]

    def checkpoint(self) -> Checkpoint:
        return require(resolve_checkpoint(self.options.checkpoint), "sdxl", "sd15")

    def _load(self, found: Checkpoint, device: str, dtype: Any, mode: str) -> Any:
        import diffusers

        pipe = load_weights(getattr(diffusers, PIPELINE_CLASSES[found.kind]), found, dtype, config=self.options.config)
        pipe.set_progress_bar_config(disable=True)
        pipe.scheduler_config = dict(pipe.scheduler.config)   # samplers are built from the model's own
        if self.options.vae_tiling:
            pipe.vae.enable_tiling()
        if device == "cuda":
            if mode == "model-offload":
                pipe.enable_model_cpu_offload()
            elif mode == "sequential-offload":
                pipe.enable_sequential_cpu_offload()
            else:
                pipe.to(device)
            if self.options.compile:
                from animstudio.image.speed import compile_unet

                compile_unet(pipe)
        return pipe

    def _memory_mode(self, found: Checkpoint, dtype: Any) -> str:
        """The memory mode: as asked, or for auto what the broker's GPU budget allows (the whole pipeline
        when it fits, else one part on the card at a time, else layer by layer)."""
        if self.options.memory != "auto":
            return self.options.memory
        from animstudio.models.broker import broker

        whole, unet = weight_bytes(found, dtype)
        return memory_mode(whole, unet, broker().budgets["gpu"])

    def pipeline(self, found: Checkpoint | None = None, device: str | None = None) -> Any:
        """A context manager giving the loaded pipeline, held through the broker while in use."""
        from animstudio.models.broker import DROP, broker, torch_moves

        found = found or self.checkpoint()
        device = device or self._device()
        dtype = self._dtype(device)
        mode = self._memory_mode(found, dtype) if device == "cuda" else "full"
        on_gpu = device == "cuda" and mode == "full"
        name = f"{found.kind}:{found.path.name}:{str(dtype).removeprefix('torch.')}:{device}"
        # the weights' size at this precision until the broker has measured a load
        return broker().use(name, lambda: self._load(found, device, dtype, mode), device="gpu" if on_gpu else "ram",
                            estimate=weight_bytes(found, dtype)[0], moves=torch_moves() if on_gpu else DROP)

    # ------------------------------------------------------------ generating

    def refiner(self, request: ImageRequest, found: Checkpoint) -> Checkpoint | None:
        """The request's SDXL refiner, checked before anything loads."""
        if not request.refiner:
            return None
        if found.kind != "sdxl":
            raise InvalidInputError(f"a refiner finishes SDXL pictures; {found.path.name} is {found.kind}: leave "
                                    "--refiner out")
        return require(resolve_checkpoint(request.refiner), "sdxl-refiner")

    def generate(self, request: ImageRequest, on_progress: ProgressCallback = ignore) -> list[Any]:
        torch = _torch()
        from animstudio.image.loras import apply_loras
        from animstudio.image.prompts import encode
        from animstudio.image.schedulers import make_scheduler

        found = self.checkpoint()
        refiner = self.refiner(request, found)
        device = self._device()
        done = 0

        def step(_pipe: Any, _index: int, _timestep: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            nonlocal done   # the base's steps, then the refiner's: request.steps in all
            done = min(done + 1, request.steps)
            on_progress(Progress("generate", done, request.steps, "steps"))
            return kwargs

        def generators() -> list[Any]:
            return [torch.Generator(device="cpu").manual_seed(request.seed + i) for i in range(request.count)]

        common = dict(num_inference_steps=request.steps, guidance_scale=request.guidance,
                      num_images_per_prompt=request.count, callback_on_step_end=step)
        with ExitStack() as held:
            pipe = held.enter_context(self.pipeline(found, device))
            pipe.scheduler = make_scheduler(request.sampler, pipe.scheduler_config)
            prompt = apply_loras(pipe, request.prompt, request.loras, found.kind)
            runner, extra = pipe, {}
            if request.controls:
                from animstudio.image.controlnets import control_arguments, control_pipeline

                extra = control_arguments(request)
                runner = control_pipeline(pipe, request, found, device, held)
            if refiner:   # the base stops early and hands its latents over
                extra |= {"denoising_end": request.refiner_switch, "output_type": "latent"}
            with torch.inference_mode():
                # A1111 weights, BREAK and prompts past 77 tokens: the embeddings are built here
                embeddings = encode(prompt, [t for t in (pipe.tokenizer, getattr(pipe, "tokenizer_2", None)) if t],
                                    [e for e in (pipe.text_encoder, getattr(pipe, "text_encoder_2", None)) if e],
                                    negative_prompt=request.negative_prompt)
                result = runner(**embeddings.as_kwargs(), width=request.width, height=request.height,
                                generator=generators(), **common, **extra)
        if refiner is None:
            return list(result.images)
        with self.pipeline(refiner, device) as finish, torch.inference_mode():
            finish.scheduler = make_scheduler(request.sampler, finish.scheduler_config)
            embeddings = encode(prompt, [finish.tokenizer_2], [finish.text_encoder_2],
                                negative_prompt=request.negative_prompt, family="sdxl-refiner")
            return list(finish(**embeddings.as_kwargs(), image=result.images, denoising_start=request.refiner_switch,
                               generator=generators(), **common).images)


def weight_bytes(found: Checkpoint, dtype: Any) -> tuple[int, int]:
    """Bytes the checkpoint's weights take at ``dtype``: all of them, and the UNet's (from the files'
    sizes; a single file is mostly UNet)."""
    itemsize = getattr(dtype, "itemsize", 2)
    if found.layout == "file":
        size = found.path.stat().st_size
        return size * itemsize // 2, size * itemsize * 2 // 3 // 2   # files are mostly fp16
    files = list(found.path.rglob("*.safetensors")) or list(found.path.rglob("*.bin"))
    unet = [f for f in files if "unet" in f.parts]
    ratio = itemsize / 4 if any("fp16" not in f.name for f in files) else itemsize / 2
    return int(sum(f.stat().st_size for f in files) * ratio), int(sum(f.stat().st_size for f in unet) * ratio)


def memory_mode(whole: int, unet: int, budget: int, working: float = 1.3) -> str:
    """full when the pipeline fits the budget with room for activations (``working``), model-offload
    when its largest part (the UNet) does, else sequential-offload."""
    if whole * working <= budget:
        return "full"
    if unet * working <= budget:
        return "model-offload"
    return "sequential-offload"


@hookimpl
def register_image_backends(register: Any) -> None:
    register(DiffusersBackend)
