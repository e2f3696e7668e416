"""SDXL speed on a GPU: plain diffusers fp16 against the studio's fast path, in one run on one card.

The pipeline is SDXL-shaped with random weights, built from the studio's own SDXL configs
(``animstudio/image/configs/sdxl``): the UNet, VAE and both text encoders cost exactly what trained
weights cost. 1024x1024, 30 steps, CFG 7, Euler, the same prompt embeddings for both paths.

- diffusers: the pipeline in fp16 on the card, as diffusers' documentation sets it up.
- studio: the same with the studio's fast path (``animstudio.image.speed.compile_unet``:
  channels-last, fused QKV projections, ``torch.compile`` with Inductor's on-disk cache).

Figures: seconds per image at steady state (the median of --images after warm-up), the ratio, the
first image of the compiled path (compile included; with a warm cache on a second run), images per
minute for a batch (after one batch of that size, which a compiled UNet compiles once), and the
peak GPU memory of each (the batch's VAE decode included).

    python benchmarks/sdxl_speed.py                        # on a CUDA machine; ends with RESULT lines
    python benchmarks/sdxl_speed.py --images 3 --batch 4   # shorter
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

CONFIGS = Path(__file__).resolve().parents[1] / "src" / "animstudio" / "image" / "configs" / "sdxl"


def build(dtype: Any) -> Any:
    """An SDXL pipeline with random weights from the studio's configs, on the GPU."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(0)
    with torch.device("cuda"):
        unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(CONFIGS / "unet")).to(dtype)
        vae = AutoencoderKL.from_config(AutoencoderKL.load_config(CONFIGS / "vae")).to(dtype)
        te = CLIPTextModel(CLIPTextConfig.from_pretrained(CONFIGS / "text_encoder")).to(dtype)
        te2 = CLIPTextModelWithProjection(CLIPTextConfig.from_pretrained(CONFIGS / "text_encoder_2")).to(dtype)
    scheduler = EulerDiscreteScheduler.from_config(EulerDiscreteScheduler.load_config(CONFIGS / "scheduler"))
    pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=te, text_encoder_2=te2, tokenizer=None, tokenizer_2=None,
                                     unet=unet, scheduler=scheduler)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def embeddings(pipe: Any, dtype: Any) -> dict[str, Any]:
    """Prompt embeddings of the right shapes (the text encoders run once per image either way)."""
    import torch

    g = torch.Generator("cuda").manual_seed(1)
    ids = torch.randint(0, 49408, (1, 77), device="cuda", generator=g)
    with torch.inference_mode():
        first = pipe.text_encoder(ids, output_hidden_states=True).hidden_states[-2]
        second = pipe.text_encoder_2(ids, output_hidden_states=True)
    prompt = torch.cat([first, second.hidden_states[-2]], dim=-1).to(dtype)
    pooled = second[0].to(dtype)
    return {"prompt_embeds": prompt, "pooled_prompt_embeds": pooled, "negative_prompt_embeds": torch.zeros_like(prompt),
            "negative_pooled_prompt_embeds": torch.zeros_like(pooled)}


def timed(pipe: Any, emb: dict[str, Any], steps: int, batch: int = 1, seed: int = 0) -> float:
    import torch

    torch.cuda.synchronize()
    started = time.perf_counter()
    generators = [torch.Generator("cuda").manual_seed(seed + i) for i in range(batch)]
    pipe(**emb, num_inference_steps=steps, guidance_scale=7.0, height=1024, width=1024,
         num_images_per_prompt=batch, generator=generators, output_type="pil")
    torch.cuda.synchronize()
    return time.perf_counter() - started


def measure(pipe: Any, emb: dict[str, Any], steps: int, images: int, batch: int) -> dict[str, float]:
    import torch

    torch.cuda.reset_peak_memory_stats()
    first = timed(pipe, emb, steps)
    timed(pipe, emb, steps, seed=1)   # warm-up
    each = [timed(pipe, emb, steps, seed=10 + i) for i in range(images)]
    timed(pipe, emb, steps, batch=batch, seed=100)   # a new batch size: a compiled UNet compiles it once
    batched = timed(pipe, emb, steps, batch=batch, seed=200)
    return {"first_s": first, "per_image_s": statistics.median(each), "batch_images_per_min": 60 * batch / batched,
            "peak_gb": torch.cuda.max_memory_allocated() / 2**30}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="denoising steps")
    parser.add_argument("--images", type=int, default=5, help="images timed at steady state, each path")
    parser.add_argument("--batch", type=int, default=16, help="images in the throughput batch")
    parser.add_argument("--mode", default="max-autotune-no-cudagraphs", help="torch.compile mode of the fast path")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU: this benchmark measures the GPU path; run it on a machine with one")
    card = torch.cuda.get_device_name(0)
    dtype = torch.float16
    pipe = build(dtype)
    emb = embeddings(pipe, dtype)
    plain = measure(pipe, emb, args.steps, args.images, args.batch)
    print(f"diffusers fp16 on {card}: {json.dumps(plain)}", flush=True)

    from animstudio.image.speed import compile_unet

    compile_unet(pipe, mode=args.mode)   # compiles lazily: the first image pays for it
    fast = measure(pipe, emb, args.steps, args.images, args.batch)
    print(f"studio fast path on {card}: {json.dumps(fast)}", flush=True)
    figures = {"card": card, "diffusers": plain, "studio": fast, "steps": args.steps, "mode": args.mode}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    ratio = plain["per_image_s"] / fast["per_image_s"]
    print(f"RESULT sdxl_diffusers_fp16 {plain['per_image_s']:.2f} s/image goal reference")
    print(f"RESULT sdxl_studio {fast['per_image_s']:.2f} s/image goal <=1.2")
    print(f"RESULT sdxl_speedup {ratio:.2f} x goal >1")
    print(f"RESULT sdxl_first_image_compiled {fast['first_s']:.1f} s goal <=30")
    print(f"RESULT sdxl_batch_throughput {fast['batch_images_per_min']:.1f} images/min goal more")
    print(f"RESULT sdxl_peak_memory_studio {fast['peak_gb']:.1f} GiB goal less")


if __name__ == "__main__":
    main()
