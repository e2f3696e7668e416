"""A1111/Civitai-style single-file checkpoints: the same weights as the diffusers folder they were
written from, CLIP's own tokenizer rebuilt offline, and the studio's configs for the full-size
architectures."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import tiny

pytest.importorskip("diffusers")

from animstudio.image.base import ImageRequest  # noqa: E402
from animstudio.image.checkpoints import CONFIGS, identify, load_weights  # noqa: E402
from animstudio.image.diffusers_backend import DiffusersBackend  # noqa: E402

SMALL = {"width": 64, "height": 64, "steps": 2, "sampler": "Euler"}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    root = tmp_path_factory.mktemp("single-file")
    folder = tiny.sdxl_for_file(root / "tiny-xl")
    path = tiny.single_file(folder, root / "tiny-xl.safetensors")
    configs = root / "tiny-xl-configs"   # configs only: the tokenizers must come from CLIP's vocabulary
    shutil.copytree(folder, configs, ignore=shutil.ignore_patterns("*.safetensors", "tokenizer*"))
    return folder, path, configs


def test_clip_tokenizer_is_rebuilt_with_clips_own_ids(tmp_path, monkeypatch):
    from animstudio.image.tokenizers import clip_tokenizer

    tok = clip_tokenizer()
    assert tok("a photo of a cat").input_ids == [49406, 320, 1125, 539, 320, 2368, 49407]
    assert tok("A Photo, of the DOG!!").input_ids == [49406, 320, 1125, 267, 539, 518, 1929, 748, 49407]
    assert len(tok) == 49408 and clip_tokenizer(pad="!").pad_token_id == 0


def test_a_single_file_loads_the_same_weights_as_its_folder(pair, tmp_path, monkeypatch):
    import torch
    from diffusers import StableDiffusionXLPipeline

    monkeypatch.setenv("ANIMSTUDIO_HOME", str(tmp_path / "home"))
    folder, path, configs = pair
    assert identify(path).kind == "sdxl" and identify(path).layout == "file"
    from_folder = load_weights(StableDiffusionXLPipeline, identify(folder), torch.float32)
    from_file = load_weights(StableDiffusionXLPipeline, identify(path), torch.float32, config=configs)
    for part in ("unet", "vae", "text_encoder", "text_encoder_2"):
        mine, theirs = getattr(from_file, part).state_dict(), getattr(from_folder, part).state_dict()
        assert sorted(mine) == sorted(theirs), part
        different = [k for k in mine if not torch.equal(mine[k], theirs[k])]
        assert not different, f"{part}: {different[:3]}"
    assert from_file.tokenizer("a photo of a cat").input_ids[:3] == [49406, 320, 1125]
    assert from_file.tokenizer_2.pad_token == "!"


def test_a_refiner_single_file_loads_its_folders_weights(pair, tmp_path, monkeypatch):
    import torch
    from diffusers import StableDiffusionXLImg2ImgPipeline

    monkeypatch.setenv("ANIMSTUDIO_HOME", str(tmp_path / "home"))
    folder = tiny.refiner(tmp_path / "tiny-refiner", pair[0])
    path = tiny.single_file(folder, tmp_path / "tiny-refiner.safetensors")
    assert identify(path).kind == "sdxl-refiner"
    configs = tmp_path / "configs"
    shutil.copytree(folder, configs, ignore=shutil.ignore_patterns("*.safetensors", "tokenizer*"))
    a = load_weights(StableDiffusionXLImg2ImgPipeline, identify(folder), torch.float32)
    b = load_weights(StableDiffusionXLImg2ImgPipeline, identify(path), torch.float32, config=configs)
    assert b.text_encoder is None and b.tokenizer is None and b.tokenizer_2.pad_token == "!"
    for part in ("unet", "vae", "text_encoder_2"):
        mine, theirs = getattr(b, part).state_dict(), getattr(a, part).state_dict()
        assert sorted(mine) == sorted(theirs) and all(torch.equal(mine[k], theirs[k]) for k in mine), part


def test_sd15_and_controlnet_single_files_load_their_folders_weights(tmp_path, monkeypatch):
    import torch
    from diffusers import ControlNetModel, StableDiffusionPipeline
    from safetensors.torch import save_file

    from animstudio.errors import InvalidInputError

    monkeypatch.setenv("ANIMSTUDIO_HOME", str(tmp_path / "home"))
    folder = tiny.sd15(tmp_path / "tiny-sd15")
    path = tiny.single_file(folder, tmp_path / "tiny-sd15.safetensors")
    assert identify(path).kind == "sd15"
    a = load_weights(StableDiffusionPipeline, identify(folder), torch.float32)
    b = load_weights(StableDiffusionPipeline, identify(path), torch.float32, config=folder)
    for part in ("unet", "vae", "text_encoder"):
        mine, theirs = getattr(b, part).state_dict(), getattr(a, part).state_dict()
        assert sorted(mine) == sorted(theirs) and all(torch.equal(mine[k], theirs[k]) for k in mine), part

    net = tiny.controlnet(tmp_path / "tiny-controlnet")
    weights = ControlNetModel.from_pretrained(net).state_dict()
    save_file({k: v.contiguous() for k, v in weights.items()}, str(tmp_path / "net.safetensors"))
    found = identify(tmp_path / "net.safetensors")
    assert found.kind == "controlnet"
    loaded = load_weights(ControlNetModel, found, torch.float32, config=net).state_dict()
    assert all(torch.equal(loaded[k], weights[k]) for k in weights)
    # a text width none of the studio's configs has (64): read only with configs given
    with pytest.raises(InvalidInputError, match="loads only as a diffusers folder"):
        load_weights(ControlNetModel, found, torch.float32)


def test_a_single_file_generates_the_folders_pixels(pair, tmp_path, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_HOME", str(tmp_path / "home"))
    folder, path, configs = pair
    shutil.copytree(folder.parent / "tiny-xl-tokenizer", tmp_path / "tok")
    with_tokenizers = tmp_path / "configs"   # both read with the same (tiny) tokenizers
    shutil.copytree(configs, with_tokenizers)
    for name in ("tokenizer", "tokenizer_2"):
        shutil.copytree(folder / name, with_tokenizers / name)
    request = ImageRequest(prompt="a red fox", seed=4, **SMALL)
    a = DiffusersBackend(checkpoint=str(folder), device="cpu").generate(request)[0]
    b = DiffusersBackend(checkpoint=str(path), device="cpu", config=str(with_tokenizers)).generate(request)[0]
    diff = np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16))
    assert diff.max() <= 1 and diff.mean() < 0.01   # equal weights; float sums may round one level apart


def test_the_studio_configs_describe_the_full_size_models():
    """Parameter counts of SDXL 1.0 and SD 1.5 as published, from the configs a single file is read with."""
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    def count(model):
        return sum(p.numel() for p in model.parameters())

    with init_empty_weights():
        unet = {k: count(UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(CONFIGS / k / "unet")))
                for k in ("sdxl", "sd15")}
        vae = count(AutoencoderKL.from_config(AutoencoderKL.load_config(CONFIGS / "sdxl" / "vae")))
        clip_l = count(CLIPTextModel(CLIPTextConfig.from_pretrained(CONFIGS / "sd15" / "text_encoder")))
        big_g = count(CLIPTextModelWithProjection(CLIPTextConfig.from_pretrained(CONFIGS / "sdxl" / "text_encoder_2")))
    assert unet == {"sdxl": 2_567_463_684, "sd15": 859_520_964}
    assert (vae, clip_l, big_g) == (83_653_863, 123_060_480, 694_659_840)
