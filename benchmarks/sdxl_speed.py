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

Other parts (``--part``), each of the studio's fast path alone, each ending with its RESULT lines:

- cold-start: the first image of a fresh process whose compile cache a previous process filled. Two
  child processes run one after the other with the same Inductor cache folder (--cache-dir, default a
  new temporary folder, so the first starts cold); the second's time from its start to its first image
  is the figure. The first also times a batch of --batch (0: none), which fills the cache for it too.
- lora: one random LoRA of rank --lora-rank on the UNet's attention projections (to_q, to_k, to_v,
  to_out.0), saved as a .safetensors file and set the way the studio sets LoRAs
  (``animstudio.image.loras.apply_loras``: a peft adapter, not fused into the weights) after the fast
  path was applied, as the diffusers backend does. It also counts the LoRA layers that a forward pass
  calls: the fast path's fused QKV projections do not call the adapters on to_q, to_k and to_v.
  --lora-unfuse undoes the QKV fusion before the LoRA loads, so that every layer of it applies.
- controlnet: one random ControlNet made from the UNet (``ControlNetModel.from_unet``, its zero
  convolutions drawn non-zero), fp16 on the card, over the fast-path pipeline through
  ``StableDiffusionXLControlNetPipeline.from_pipe``, as the studio's ``control_pipeline`` does.

    python benchmarks/sdxl_speed.py                        # on a CUDA machine; ends with RESULT lines
    python benchmarks/sdxl_speed.py --images 3 --batch 4   # shorter
    python benchmarks/sdxl_speed.py --part cold-start --mode reduce-overhead
    python benchmarks/sdxl_speed.py --part lora --batch 0
    python benchmarks/sdxl_speed.py --part controlnet --batch 0
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
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


def timed(pipe: Any, emb: dict[str, Any], steps: int, batch: int = 1, seed: int = 0,
          extra: dict[str, Any] | None = None) -> float:
    import torch

    torch.cuda.synchronize()
    started = time.perf_counter()
    generators = [torch.Generator("cuda").manual_seed(seed + i) for i in range(batch)]
    pipe(**emb, num_inference_steps=steps, guidance_scale=7.0, height=1024, width=1024,
         num_images_per_prompt=batch, generator=generators, output_type="pil", **(extra or {}))
    torch.cuda.synchronize()
    return time.perf_counter() - started


def measure(pipe: Any, emb: dict[str, Any], steps: int, images: int, batch: int,
            extra: dict[str, Any] | None = None) -> dict[str, float]:
    """First image, steady state (median of ``images`` after one warm-up), a batch (none when 0) and
    the peak GPU memory since the call."""
    import torch

    torch.cuda.reset_peak_memory_stats()
    first = timed(pipe, emb, steps, extra=extra)
    timed(pipe, emb, steps, seed=1, extra=extra)   # warm-up
    each = [timed(pipe, emb, steps, seed=10 + i, extra=extra) for i in range(images)]
    figures = {"first_s": first, "per_image_s": statistics.median(each), "each_s": each}
    if batch:
        timed(pipe, emb, steps, batch=batch, seed=100, extra=extra)   # a new batch size: a compiled UNet compiles it
        batched = timed(pipe, emb, steps, batch=batch, seed=200, extra=extra)
        figures["batch_images_per_min"] = 60 * batch / batched
    figures["peak_gb"] = torch.cuda.max_memory_allocated() / 2**30
    return figures


def first_image(args: argparse.Namespace) -> None:
    """One process of --part cold-start: build, the fast path, the first image (and a batch when asked);
    writes its figures, the time since the parent started it among them, to SDXL_FIGURES as JSON."""
    spawned = float(os.environ["SDXL_SPAWNED_AT"])
    out = Path(os.environ["SDXL_FIGURES"])
    import torch

    imported = time.time()
    dtype = torch.float16
    pipe = build(dtype)
    emb = embeddings(pipe, dtype)
    torch.cuda.synchronize()
    built = time.time()
    from animstudio.image.speed import compile_unet

    compile_unet(pipe, mode=args.mode)
    first = timed(pipe, emb, args.steps)
    done = time.time()
    figures = {"card": torch.cuda.get_device_name(0), "since_start_s": done - spawned,
               "import_torch_s": imported - spawned, "build_s": built - imported, "first_image_s": first}
    figures["second_image_s"] = timed(pipe, emb, args.steps, seed=1)
    out.write_text(json.dumps(figures))
    print(f"first image: {json.dumps(figures)}", flush=True)
    if args.batch:
        torch.cuda.reset_peak_memory_stats()
        timed(pipe, emb, args.steps, batch=args.batch, seed=100)   # compiles this batch size once
        figures["batch_images_per_min"] = 60 * args.batch / timed(pipe, emb, args.steps, batch=args.batch, seed=200)
        figures["batch_peak_gb"] = torch.cuda.max_memory_allocated() / 2**30
        out.write_text(json.dumps(figures))
        print(f"batch of {args.batch}: {json.dumps(figures)}", flush=True)


def cold_start(args: argparse.Namespace) -> dict[str, Any]:
    """Two fresh processes with one compile cache: the first fills it, the second's first image is timed."""
    cache = args.cache_dir or Path(tempfile.mkdtemp(prefix="sdxl-compile-"))
    cache.mkdir(parents=True, exist_ok=True)
    runs = []
    for index in range(2):
        out = Path(tempfile.mkdtemp(prefix="sdxl-first-")) / "figures.json"
        env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=str(cache), SDXL_FIGURES=str(out),
                   SDXL_SPAWNED_AT=repr(time.time()))
        command = [sys.executable, str(Path(__file__).resolve()), "--part", "first-image", "--mode", args.mode,
                   "--steps", str(args.steps), "--batch", str(args.batch if index == 0 else 0)]
        code = subprocess.run(command, env=env).returncode   # its output goes on this one's
        if not out.is_file():
            raise SystemExit(f"the {'first' if index == 0 else 'second'} process failed ({code})")
        if code:
            print(f"process {index + 1} failed ({code}) after its first image", flush=True)
        runs.append(json.loads(out.read_text()))
        print(f"process {index + 1} ({'cold' if index == 0 else 'warm'} cache) on {runs[-1]['card']}: "
              f"{json.dumps(runs[-1])}", flush=True)
    return {"card": runs[1]["card"], "cache_dir": str(cache), "cold": runs[0], "warm": runs[1], "mode": args.mode}


ATTENTION = (".to_q", ".to_k", ".to_v", ".to_out.0")


def make_lora(unet: Any, rank: int, path: Path) -> int:
    """A random LoRA of ``rank`` on the UNet's attention projections, saved in peft's layout; its layers."""
    import torch
    from safetensors.torch import save_file

    g = torch.Generator("cuda").manual_seed(3)
    tensors = {}
    for name, module in unet.named_modules():
        if isinstance(module, torch.nn.Linear) and name.endswith(ATTENTION):
            down = torch.randn(rank, module.in_features, device="cuda", generator=g) / module.in_features**0.5
            up = torch.randn(module.out_features, rank, device="cuda", generator=g) * (0.1 / rank**0.5)
            tensors[f"unet.{name}.lora_A.weight"] = down.half().cpu().contiguous()
            tensors[f"unet.{name}.lora_B.weight"] = up.half().cpu().contiguous()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path))
    return len(tensors) // 2


def lora_layers_called(pipe: Any, emb: dict[str, Any]) -> tuple[int, int]:
    """(LoRA layers loaded, those one eager forward pass of the UNet calls), on a small latent."""
    import torch

    unet = getattr(pipe.unet, "_orig_mod", pipe.unet)
    wrapped = [m for n, m in unet.named_modules() if n.endswith(ATTENTION) and hasattr(m, "lora_A")]
    called: set[int] = set()
    hooks = [m.register_forward_hook(lambda module, _i, _o: called.add(id(module))) for m in wrapped]
    try:
        latent = torch.randn(1, 4, 32, 32, device="cuda", dtype=unet.dtype)
        ids = torch.tensor([[256, 256, 0, 0, 256, 256]], device="cuda", dtype=unet.dtype)
        with torch.inference_mode():
            unet(latent, 500, encoder_hidden_states=emb["prompt_embeds"],
                 added_cond_kwargs={"text_embeds": emb["pooled_prompt_embeds"], "time_ids": ids})
    finally:
        for hook in hooks:
            hook.remove()
    return len(wrapped), len(called)


def lora_part(args: argparse.Namespace, pipe: Any, emb: dict[str, Any]) -> dict[str, Any]:
    from animstudio.image.loras import apply_loras
    from animstudio.image.speed import compile_unet

    folder = Path(tempfile.mkdtemp(prefix="sdxl-lora-"))
    path = folder / f"random_r{args.lora_rank}.safetensors"
    layers = make_lora(pipe.unet, args.lora_rank, path)
    compile_unet(pipe, mode=args.mode)   # the backend applies the fast path when it loads the pipeline
    if args.lora_unfuse:
        pipe.unfuse_qkv_projections(unet=True, vae=False)
    apply_loras(pipe, "", {str(path): 1.0}, "sdxl")
    loaded, called = lora_layers_called(pipe, emb)
    figures = measure(pipe, emb, args.steps, args.images, args.batch)
    return {**figures, "rank": args.lora_rank, "file_mb": path.stat().st_size / 2**20, "layers_in_file": layers,
            "lora_layers_loaded": loaded, "lora_layers_called": called, "unfused_qkv": args.lora_unfuse}


def controlnet_part(args: argparse.Namespace, pipe: Any, emb: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    import torch
    from diffusers import ControlNetModel, StableDiffusionXLControlNetPipeline
    from PIL import Image

    from animstudio.image.speed import compile_unet

    torch.manual_seed(4)
    with torch.device("cuda"):
        controlnet = ControlNetModel.from_unet(pipe.unet).to(pipe.unet.dtype)
    with torch.no_grad():   # a trained ControlNet's zero convolutions are no longer zero: neither are these
        for conv in [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block]:
            conv.weight.normal_(0, 0.02)
    compile_unet(pipe, mode=args.mode)
    runner = StableDiffusionXLControlNetPipeline.from_pipe(pipe, controlnet=controlnet)   # as control_pipeline does
    runner.set_progress_bar_config(disable=True)
    picture = np.random.default_rng(5).integers(0, 256, (1024, 1024, 3), dtype=np.uint8)
    extra = {"image": Image.fromarray(picture), "controlnet_conditioning_scale": 1.0,
             "control_guidance_start": [0.0], "control_guidance_end": [1.0]}
    return measure(runner, emb, args.steps, args.images, args.batch, extra=extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="denoising steps")
    parser.add_argument("--images", type=int, default=5, help="images timed at steady state, each path")
    parser.add_argument("--batch", type=int, default=16, help="images in the throughput batch")
    parser.add_argument("--mode", default="max-autotune-no-cudagraphs", help="torch.compile mode of the fast path")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--part", default="compare", choices=["compare", "cold-start", "lora", "controlnet",
                                                              "first-image"],
                        help="what to measure: diffusers against the fast path (compare), or the fast path's "
                             "cold start with a warm compile cache, with one LoRA, or with one ControlNet "
                             "(first-image: one process of cold-start)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="cold-start: the compile cache of both processes (default: a new temporary folder)")
    parser.add_argument("--lora-rank", type=int, default=64, help="lora: the random LoRA's rank")
    parser.add_argument("--lora-unfuse", action="store_true",
                        help="lora: undo the fast path's QKV fusion before the LoRA loads")
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU: this benchmark measures the GPU path; run it on a machine with one")
    if args.part == "first-image":
        first_image(args)
        return
    card = torch.cuda.get_device_name(0)
    if args.part == "cold-start":
        figures = cold_start(args)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2))
        warm, cold = figures["warm"], figures["cold"]
        print(f"RESULT sdxl_cold_start_cold_cache {cold['since_start_s']:.1f} s goal reference ({card}, {args.mode})")
        print(f"RESULT sdxl_cold_start_warm_cache {warm['since_start_s']:.1f} s goal 30 ({card}, {args.mode})")
        if "batch_images_per_min" in cold:
            print(f"RESULT sdxl_batch{args.batch}_throughput {cold['batch_images_per_min']:.1f} images/min goal more "
                  f"({card}, {args.mode})")
            print(f"RESULT sdxl_batch{args.batch}_peak_memory {cold['batch_peak_gb']:.1f} GiB goal less ({card})")
        return
    dtype = torch.float16
    pipe = build(dtype)
    emb = embeddings(pipe, dtype)
    if args.part in ("lora", "controlnet"):
        figures = (lora_part if args.part == "lora" else controlnet_part)(args, pipe, emb)
        print(f"studio fast path with one {args.part} on {card}: {json.dumps(figures)}", flush=True)
        if args.json:
            args.json.write_text(json.dumps({"card": card, args.part: figures, "steps": args.steps,
                                             "mode": args.mode}, indent=2))
        goal = "1.3" if args.part == "lora" else "1.8"
        name = f"sdxl_{args.part}{'_unfused' if args.part == 'lora' and args.lora_unfuse else ''}"
        print(f"RESULT {name}_s_per_image {figures['per_image_s']:.2f} s goal {goal} ({card}, {args.mode})")
        print(f"RESULT {name}_first_image {figures['first_s']:.1f} s goal reference ({card})")
        if "batch_images_per_min" in figures:
            print(f"RESULT {name}_batch_throughput {figures['batch_images_per_min']:.1f} images/min goal more ({card})")
        print(f"RESULT {name}_peak_memory {figures['peak_gb']:.1f} GiB goal less ({card})")
        if args.part == "lora":
            print(f"RESULT {name}_layers_called {figures['lora_layers_called']} of {figures['lora_layers_loaded']} "
                  f"goal all ({card})")
        return
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
    if "batch_images_per_min" in fast:
        print(f"RESULT sdxl_batch_throughput {fast['batch_images_per_min']:.1f} images/min goal more")
    print(f"RESULT sdxl_peak_memory_studio {fast['peak_gb']:.1f} GiB goal less")


if __name__ == "__main__":
    main()
