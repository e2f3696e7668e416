"""The diffusers backend on a tiny random SDXL (real diffusers classes and code paths, built from
configs): a generation runs end to end, seeds reproduce pixels, LoRAs and ControlNets steer it as
their weights say, and bad checkpoints are one clear line."""

from __future__ import annotations

import numpy as np
import pytest
import tiny

pytest.importorskip("diffusers")

from animstudio.errors import InvalidInputError  # noqa: E402
from animstudio.image.base import Control, ImageRequest  # noqa: E402
from animstudio.image.diffusers_backend import DiffusersBackend  # noqa: E402

SMALL = {"width": 64, "height": 64, "steps": 3, "sampler": "Euler"}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny-models")
    return {"sdxl": tiny.sdxl(root / "tiny-sdxl"), "lora": tiny.lora(root / "loras" / "ink.safetensors"),
            "other_lora": tiny.lora(root / "loras" / "wide.safetensors", cross_attention_dim=96),
            "controlnet": tiny.controlnet(root / "tiny-controlnet")}


@pytest.fixture
def backend(models, tmp_path, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return DiffusersBackend(checkpoint=str(models["sdxl"]), device="cpu")


def pixels(image) -> np.ndarray:
    return np.asarray(image, dtype=np.int16)


def test_a_generation_runs_and_seeds_reproduce_pixels(backend):
    first = backend.generate(ImageRequest(prompt="a red fox", seed=5, count=2, **SMALL))
    assert [im.size for im in first] == [(64, 64)] * 2 and first[0].mode == "RGB"
    assert np.array_equal(pixels(first[1]), pixels(backend.generate(  # the same request: the same pixels
        ImageRequest(prompt="a red fox", seed=5, count=2, **SMALL))[1]))
    # image i of a batch is image 0 of seed + i alone (to a level: batched arithmetic rounds differently)
    again = backend.generate(ImageRequest(prompt="a red fox", seed=5, **SMALL))
    assert np.abs(pixels(first[0]) - pixels(again[0])).max() <= 1
    second = backend.generate(ImageRequest(prompt="a red fox", seed=6, **SMALL))
    assert np.abs(pixels(first[1]) - pixels(second[0])).max() <= 1
    assert not np.array_equal(pixels(first[0]), pixels(first[1]))


def test_a_lora_at_weight_zero_gives_the_base_image_and_at_one_another(backend, models):
    from animstudio.models.broker import broker

    base = pixels(backend.generate(ImageRequest(prompt="a red fox", seed=1, **SMALL))[0])
    loads = broker().counters.loads
    off = pixels(backend.generate(ImageRequest(prompt="a red fox", seed=1, loras={str(models["lora"]): 0.0},
                                               **SMALL))[0])
    on = pixels(backend.generate(ImageRequest(prompt="a red fox", seed=1, loras={str(models["lora"]): 1.0},
                                              **SMALL))[0])
    tag = pixels(backend.generate(ImageRequest(prompt=f"a red fox <lora:{models['lora']}:1>", seed=1, **SMALL))[0])
    plain = pixels(backend.generate(ImageRequest(prompt="a red fox", seed=1, **SMALL))[0])
    assert np.abs(off - base).max() <= 1
    assert np.abs(on - base).mean() > 2
    assert np.array_equal(on, tag)                 # the prompt's tag is the same LoRA at the same weight
    assert np.abs(plain - base).max() <= 1         # no LoRA asked: none applied
    assert broker().counters.loads == loads        # LoRAs swapped without reloading the base


def test_a_controlnet_at_scale_zero_gives_the_base_image(backend, models, tmp_path):
    from PIL import Image

    hint = tmp_path / "hint.png"
    canvas = np.zeros((64, 64, 3), np.uint8)
    canvas[16:48, 16:48] = 255
    Image.fromarray(canvas).save(hint)
    base = pixels(backend.generate(ImageRequest(prompt="a red fox", seed=2, **SMALL))[0])

    def steered(scale):
        control = Control(model=str(models["controlnet"]), image=str(hint), scale=scale)
        return pixels(backend.generate(ImageRequest(prompt="a red fox", seed=2, controls=[control], **SMALL))[0])

    assert np.abs(steered(0.0) - base).max() <= 2
    assert np.abs(steered(1.0) - base).mean() > 2


def test_bad_checkpoints_and_loras_are_one_line(backend, models, tmp_path):
    with pytest.raises(InvalidInputError, match="is a ControlNet, not an SDXL pipeline or an SD 1.5 pipeline"):
        DiffusersBackend(checkpoint=str(models["controlnet"]), device="cpu").generate(
            ImageRequest(prompt="x", **SMALL))
    broken = tmp_path / "cut.safetensors"
    broken.write_bytes(models["lora"].read_bytes()[:300])
    with pytest.raises(InvalidInputError, match="not a readable .safetensors file.*download it again"):
        DiffusersBackend(checkpoint=str(broken), device="cpu").generate(ImageRequest(prompt="x", **SMALL))
    with pytest.raises(InvalidInputError, match="does not fit this sdxl checkpoint.*another base model"):
        backend.generate(ImageRequest(prompt="x", loras={str(models["other_lora"]): 1.0}, **SMALL))
    with pytest.raises(InvalidInputError, match="no LoRA 'nobody'"):
        backend.generate(ImageRequest(prompt="x", loras={"nobody": 1.0}, **SMALL))
    with pytest.raises(InvalidInputError, match="no checkpoint is set.*models add"):
        DiffusersBackend(device="cpu").generate(ImageRequest(prompt="x", **SMALL))
    with pytest.raises(InvalidInputError, match="pickled checkpoint"):
        (tmp_path / "old.ckpt").write_bytes(b"x")
        DiffusersBackend(checkpoint=str(tmp_path / "old.ckpt"), device="cpu").generate(
            ImageRequest(prompt="x", **SMALL))


def test_a_refiner_finishes_the_last_steps(backend, models, tmp_path):
    from animstudio.progress import Progress

    refiner = tiny.refiner(tmp_path / "tiny-refiner", models["sdxl"])
    seen: list[Progress] = []
    request = ImageRequest(prompt="a red fox", seed=2, count=2, refiner=str(refiner), refiner_switch=0.5,
                           **SMALL | {"steps": 5})
    refined = backend.generate(request, on_progress=seen.append)
    assert [p.done for p in seen] == [1, 2, 3, 4, 5] and seen[-1].total == 5
    again = backend.generate(request)
    assert all(np.array_equal(pixels(a), pixels(b)) for a, b in zip(refined, again, strict=True))
    plain = backend.generate(ImageRequest(prompt="a red fox", seed=2, count=2, **SMALL | {"steps": 5}))
    assert np.abs(pixels(refined[0]) - pixels(plain[0])).mean() > 2
    late = backend.generate(request.model_copy(update={"refiner_switch": 0.8}))   # the refiner does less
    assert np.abs(pixels(late[0]) - pixels(plain[0])).mean() < np.abs(pixels(refined[0]) - pixels(plain[0])).mean()
    from animstudio.image.checkpoints import short_hash
    from animstudio.image.metadata import format_parameters, parameters_for

    text = format_parameters(parameters_for(request, 2, "tiny-sdxl", ""))
    assert f"Refiner: tiny-refiner [{short_hash(refiner)}], Refiner switch at: 0.5" in text
    with pytest.raises(InvalidInputError, match="is an SDXL pipeline, not an SDXL refiner"):
        backend.generate(request.model_copy(update={"refiner": str(models["sdxl"])}))


def test_presets_fill_what_the_request_leaves_out():
    draft = ImageRequest(prompt="x", preset="draft")
    assert (draft.steps, draft.guidance, draft.width, draft.height) == (12, 5.0, 768, 768)
    mine = ImageRequest(prompt="x", preset="high", steps=20, width=832, height=1216)
    assert (mine.steps, mine.guidance, mine.width, mine.height) == (20, 7.0, 832, 1216)


def test_a_shot_of_a_film_steers_through_its_edges_resized_and_said(backend, models, shared_data, caplog):
    """--control image=VIDEO:SHOT: the shot's middle frame, preprocessed (canny), cut and resized to the
    generation's size, with a line in the log saying so."""
    import logging

    film = shared_data / "video" / "big_buck_bunny_0_30.webm"
    base = pixels(backend.generate(ImageRequest(prompt="a red fox", seed=2, **SMALL))[0])
    control = Control(model=str(models["controlnet"]), image=f"{film}:3", preprocessor="canny")
    with caplog.at_level(logging.WARNING, logger="animstudio.image.controlnets"):
        shot = pixels(backend.generate(ImageRequest(prompt="a red fox", seed=2, controls=[control], **SMALL))[0])
    assert np.abs(shot - base).mean() > 2
    assert any("resized to 64x64" in r.getMessage() for r in caplog.records), caplog.text
    with pytest.raises(InvalidInputError, match="has 4 shots; pass a shot from 1 to 4, got 9"):
        backend.generate(ImageRequest(prompt="x", controls=[Control(model=str(models["controlnet"]),
                                                                    image=f"{film}:9")], **SMALL))


def test_an_sd15_checkpoint_generates_with_weighted_long_prompts(tmp_path, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_HOME", str(tmp_path / "home"))
    sd15 = DiffusersBackend(checkpoint=str(tiny.sd15(tmp_path / "tiny-sd15")), device="cpu")
    assert sd15.checkpoint().kind == "sd15"
    long = ", ".join(["a small red fox"] * 12) + ", (snow:1.4)"      # past 77 tokens: three windows
    images = sd15.generate(ImageRequest(prompt=long, seed=3, count=2, **SMALL))
    assert [im.size for im in images] == [(64, 64)] * 2
    again = sd15.generate(ImageRequest(prompt=long, seed=3, count=2, **SMALL))
    assert np.array_equal(pixels(images[1]), pixels(again[1]))
    plain = sd15.generate(ImageRequest(prompt=long.replace("(snow:1.4)", "snow"), seed=3, **SMALL))[0]
    assert np.abs(pixels(plain) - pixels(images[0])).mean() > 0.5      # the weight is used


def test_the_memory_mode_follows_the_gpu_budget():
    from animstudio.image.diffusers_backend import memory_mode

    gb = 1 << 30
    sdxl_fp16, unet_fp16 = int(6.9 * gb), int(5.1 * gb)
    assert memory_mode(sdxl_fp16, unet_fp16, 24 * gb) == "full"               # a 24 GB card
    assert memory_mode(sdxl_fp16, unet_fp16, int(7.2 * gb)) == "model-offload"   # an 8 GB card at 0.9
    assert memory_mode(sdxl_fp16, unet_fp16, 4 * gb) == "sequential-offload"


def test_a_lora_reaches_every_attention_layer_of_a_fused_unet(models, tmp_path, monkeypatch):
    """The GPU fast path fuses the UNet's q, k and v projections into one; a LoRA loaded afterwards
    must still act on each of them (the pipeline is unfused before the LoRA goes in)."""
    import torch
    from diffusers import StableDiffusionXLPipeline

    from animstudio.image.loras import apply_loras

    monkeypatch.setenv("ANIMSTUDIO_HOME", str(tmp_path / "home"))
    lora = models["lora"]

    def lora_change(fused: bool) -> tuple[float, int, int]:
        pipe = StableDiffusionXLPipeline.from_pretrained(models["sdxl"])
        if fused:
            pipe.fuse_qkv_projections()
        apply_loras(pipe, "", {str(lora): 1.0}, "sdxl")
        wrapped = [m for name, m in pipe.unet.named_modules() if hasattr(m, "lora_A") and name.endswith(("to_q", "to_k",
                                                                                                         "to_v"))]
        called: list[int] = []
        for module in wrapped:
            module.register_forward_hook(lambda *_: called.append(1))
        torch.manual_seed(0)
        x, t, text = torch.randn(1, 4, 16, 16), torch.tensor([500]), torch.randn(1, 77, 64)
        extra = {"text_embeds": torch.randn(1, 32), "time_ids": torch.randn(1, 6)}
        with torch.no_grad():
            on = pipe.unet(x, t, text, added_cond_kwargs=extra).sample
            pipe.set_adapters([next(iter(pipe.studio_loras))], adapter_weights=[0.0])
            off = pipe.unet(x, t, text, added_cond_kwargs=extra).sample
        return float((on - off).norm() / off.norm()), len(called), len(wrapped)

    plain, fused = lora_change(False), lora_change(True)
    assert fused[1] == fused[2] * 2 > 0                    # every q, k, v LoRA layer ran in both passes
    assert fused[0] == pytest.approx(plain[0], rel=1e-4)   # and changed the output as on an unfused UNet
