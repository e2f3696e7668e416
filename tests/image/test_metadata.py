"""A1111 ``parameters`` text: written in A1111's layout, read back from what A1111, Forge and ComfyUI
write, exactly round-tripped, and carried in real PNG (and JPEG) files with a JSON sidecar."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from PIL import Image

from animstudio.errors import InvalidInputError
from animstudio.image.metadata import (
    Parameters,
    format_parameters,
    lora_hash,
    parameters_for,
    parse_parameters,
    read_png_parameters,
    write_png,
)

A1111 = (   # as A1111 1.10 writes it: hires fix, two LoRAs, a ControlNet unit, an embedding
    "masterpiece, best quality, 1girl, (silver hair:1.2), ((red eyes)), standing in a [misty] forest,\n"
    "looking at viewer <lora:add_detail:0.6>, <lora:mira_v2:0.8>\n"
    "Negative prompt: (worst quality, low quality:1.4), lowres, bad hands, watermark, EasyNegative\n"
    "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 2847716305, Size: 832x1216, "
    "Model hash: 31e35c80fc, Model: sd_xl_base_1.0, VAE hash: 235745af8d, VAE: sdxl_vae.safetensors, "
    "Denoising strength: 0.35, Clip skip: 2, Hires upscale: 1.5, Hires steps: 12, Hires upscaler: 4x-UltraSharp, "
    'Lora hashes: "add_detail: 7c6bad76eb54, mira_v2: 1f5a2c3b4d6e", '
    'ControlNet 0: "Module: canny, Model: control_v11p_sd15_canny [d14c016b], Weight: 1, Resize Mode: Crop and '
    'Resize, Processor Res: 512, Threshold A: 100, Threshold B: 200, Guidance Start: 0, Guidance End: 1, '
    'Pixel Perfect: False, Control Mode: Balanced", TI hashes: "EasyNegative: c74b4e810b03", Version: v1.10.1')

FORGE = ("1girl, ink wash\nSteps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7.0, Seed: 1, "
         "Size: 1024x1024, Model hash: 31e35c80fc, Model: animagine-xl-3.1, "
         "Version: f2.0.1v1.10.1-previous-313-g8a042934, Module 1: sdxl_vae")

COMFY = ("a fox in snow\nNegative prompt: blurry\nSteps: 20, Sampler: euler_ancestral, CFG scale: 7.0, Seed: 42, "
         "Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: ComfyUI")


def test_a1111_text_reads_into_its_fields():
    p = parse_parameters(A1111)
    assert p.prompt.startswith("masterpiece, best quality") and p.prompt.endswith("<lora:mira_v2:0.8>")
    assert p.negative_prompt == "(worst quality, low quality:1.4), lowres, bad hands, watermark, EasyNegative"
    assert (p.steps, p.sampler, p.schedule_type, p.cfg_scale, p.seed) == (28, "DPM++ 2M", "Karras", 6.5, 2847716305)
    assert (p.width, p.height, p.model, p.model_hash) == (832, 1216, "sd_xl_base_1.0", "31e35c80fc")
    assert (p.denoising_strength, p.clip_skip) == (0.35, 2)
    assert p.loras == {"add_detail": 0.6, "mira_v2": 0.8}
    assert p.lora_hashes == {"add_detail": "7c6bad76eb54", "mira_v2": "1f5a2c3b4d6e"}
    assert p.extra["ControlNet 0"].startswith("Module: canny, Model: control_v11p_sd15_canny [d14c016b], Weight: 1,")
    assert p.extra["TI hashes"] == "EasyNegative: c74b4e810b03" and p.extra["Version"] == "v1.10.1"
    assert list(p.extra)[:5] == ["VAE hash", "VAE", "Hires upscale", "Hires steps", "Hires upscaler"]


@pytest.mark.parametrize("text", [A1111, FORGE, COMFY], ids=["a1111", "forge", "comfyui"])
def test_texts_round_trip_exactly(text):
    p = parse_parameters(text)
    assert format_parameters(p) == text
    assert parse_parameters(format_parameters(p)) == p


def test_forge_and_comfyui_fields():
    forge = parse_parameters(FORGE)
    assert (forge.sampler, forge.schedule_type, forge.cfg_scale, forge.width) == ("Euler a", "Automatic", 7.0, 1024)
    assert forge.extra == {"CFG scale": "7.0", "Version": "f2.0.1v1.10.1-previous-313-g8a042934",
                           "Module 1": "sdxl_vae"}   # 7.0 keeps its spelling; the module stays after the version
    comfy = parse_parameters(COMFY)
    assert (comfy.prompt, comfy.negative_prompt, comfy.sampler, comfy.seed) == ("a fox in snow", "blurry",
                                                                                "euler_ancestral", 42)


def test_parameters_are_written_in_a1111s_layout():
    p = Parameters(prompt="mira waving, (ink wash:1.2)", negative_prompt="blurry", steps=30, sampler="DPM++ 2M",
                   schedule_type="Karras", cfg_scale=6, seed=7, width=832, height=1216, model="sd_xl_base_1.0",
                   model_hash="31e35c80fc", loras={"inkwash": 0.6}, lora_hashes={"inkwash": "0123456789ab"},
                   clip_skip=2, extra={"Version": "animstudio 0.1.0", "ControlNet 0": "Module: canny, Model: lineart"})
    assert format_parameters(p) == (
        "mira waving, (ink wash:1.2) <lora:inkwash:0.6>\n"
        "Negative prompt: blurry\n"
        "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6, Seed: 7, Size: 832x1216, "
        "Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Clip skip: 2, Lora hashes: \"inkwash: 0123456789ab\", "
        "ControlNet 0: \"Module: canny, Model: lineart\", Version: animstudio 0.1.0")
    assert parse_parameters(format_parameters(p)) == p


def test_values_with_commas_colons_quotes_or_newlines_are_json_quoted():
    p = Parameters(prompt="a cat", steps=20, seed=1, extra={"Hires prompt": "a cat, detailed\nsharp",
                                                            "Note": 'the "good" one', "Time": "10:30", "Plain": "ok"})
    line = format_parameters(p).split("\n")[-1]
    assert line == ('Steps: 20, Seed: 1, Hires prompt: "a cat, detailed\\nsharp", Note: "the \\"good\\" one", '
                    'Time: "10:30", Plain: ok')
    assert parse_parameters(format_parameters(p)) == p


def test_a_field_that_does_not_read_stays_as_written():
    text = "a cat\nSteps: many, Sampler: Euler, Seed: 3, Size: 512 by 512"
    p = parse_parameters(text)
    assert (p.steps, p.width, p.seed, p.extra) == (None, None, 3, {"Steps": "many", "Size": "512 by 512"})
    assert format_parameters(p) == text


def test_a_text_without_fields_is_all_prompt():
    assert parse_parameters("a cat, sitting: calm") == Parameters(prompt="a cat, sitting: calm")
    p = parse_parameters("a cat\nNegative prompt: dog")
    assert (p.prompt, p.negative_prompt, p.steps) == ("a cat", "dog", None)
    few = Parameters(prompt="a cat\nin snow", steps=12)   # one field on its own line is still a field
    assert parse_parameters(format_parameters(few)) == few


def test_lora_tags_and_loras_agree():
    assert Parameters(prompt="a cat", loras={"ink": 0.8, "mira": 1.0}).prompt == "a cat <lora:ink:0.8> <lora:mira:1>"
    assert Parameters(prompt="a <lora:ink:0.5> cat").loras == {"ink": 0.5}
    assert Parameters(prompt="a <lora:ink:0.5> cat", loras={"ink": 0.7}).prompt == "a <lora:ink:0.7> cat"
    assert Parameters(loras={"ink": 0.5}).prompt == "<lora:ink:0.5>"


# ------------------------------------------------------------------ files


@pytest.fixture
def picture() -> Image.Image:
    image = Image.new("RGB", (64, 48))
    image.putdata([(x * 4, y * 5, 128) for y in range(48) for x in range(64)])
    return image


def test_png_carries_the_text_and_a_json_sidecar(tmp_path, picture):
    p = parse_parameters(A1111)
    out = write_png(picture, tmp_path / "mira-7.png", p)
    assert out == tmp_path / "mira-7.png"
    with Image.open(out) as image:
        assert image.info["parameters"] == A1111      # what A1111's PNG Info tab reads
        assert list(image.getdata())[:3] == list(picture.getdata())[:3]
    assert json.loads((tmp_path / "mira-7.json").read_text()) == json.loads(p.model_dump_json())
    assert read_png_parameters(out) == p
    assert sorted(f.name for f in tmp_path.iterdir()) == ["mira-7.json", "mira-7.png"]   # no temp files left


def test_text_beyond_latin1_goes_in_an_itxt_chunk(tmp_path, picture):
    p = Parameters(prompt="少女, café au lait, 🦊", steps=20, sampler="Euler a", seed=3)
    out = write_png(picture, tmp_path / "fox.png", p)
    assert b"iTXtparameters" in out.read_bytes()
    assert read_png_parameters(out) == p


def test_a1111_jpeg_user_comment_is_read(tmp_path, picture):
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + COMFY.encode("utf-16-be")   # as A1111 saves a JPEG
    picture.save(tmp_path / "fox.jpg", exif=exif)
    assert read_png_parameters(tmp_path / "fox.jpg") == parse_parameters(COMFY)


def test_pictures_without_parameters_and_non_pictures(tmp_path, picture):
    picture.save(tmp_path / "plain.png")
    assert read_png_parameters(tmp_path / "plain.png") is None
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(InvalidInputError, match=r"^notes.png is not a picture \(UnidentifiedImageError\); give a "
                                                r"PNG, JPEG or WebP$"):
        read_png_parameters(tmp_path / "notes.png")


# ------------------------------------------------------------------ hashes and requests


def lora_file(path: Path, metadata: dict[str, str] | None = None) -> Path:
    import torch
    from safetensors.torch import save_file

    torch.manual_seed(0)
    save_file({"lora_unet_down.lora_down.weight": torch.randn(4, 8)}, str(path), metadata=metadata)
    return path


def test_lora_hash_is_a1111s(tmp_path):
    path = lora_file(tmp_path / "ink.safetensors")
    data = path.read_bytes()
    header = 8 + int.from_bytes(data[:8], "little")
    assert lora_hash(path) == hashlib.sha256(data[header:]).hexdigest()[:12]   # the tensors, not the header
    stored = lora_file(tmp_path / "kohya.safetensors", {"sshs_model_hash": "abcdef0123456789" * 4})
    assert lora_hash(stored) == "abcdef012345"


def test_parameters_for_a_request(tmp_path, studio_home):
    from animstudio.image.base import Control
    from animstudio.image.requests import GenerateRequest

    ink = lora_file(tmp_path / "ink.safetensors")
    studio_home.mkdir(parents=True, exist_ok=True)
    (studio_home / "loras.yaml").write_text(f"ink:\n  file: {ink}\n")
    request = GenerateRequest(prompt="mira waving <lora:ink:0.6>", negative_prompt="blurry", sampler="dpm++ 2m karras",
                              steps=24, guidance=5.5, width=832, height=1216, loras={"missing": 0.3},
                              controls=[Control(model="lineart-sdxl", image="ref.png", preprocessor="lineart")])
    p = parameters_for(request, 12, "animagine", "31e35c80fc")
    assert format_parameters(p) == (
        "mira waving <lora:ink:0.6> <lora:missing:0.3>\nNegative prompt: blurry\n"
        "Steps: 24, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 5.5, Seed: 12, Size: 832x1216, "
        f"Model hash: 31e35c80fc, Model: animagine, Lora hashes: \"ink: {lora_hash(ink)}\", "
        "ControlNet 0: \"Module: lineart, Model: lineart-sdxl, Weight: 1, Guidance Start: 0, Guidance End: 1\", "
        "Version: animstudio 0.1.0")
