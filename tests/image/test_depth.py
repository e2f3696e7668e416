"""Depth and normal control images from a depth model in the warehouse: a tiny random DPT built from
a config (the real transformers classes and processor), its answer stretched to the picture."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("transformers")

from animstudio.errors import InvalidInputError  # noqa: E402
from animstudio.image.depth import Depth, Normal, estimate, normals  # noqa: E402


@pytest.fixture(scope="module")
def dpt(tmp_path_factory):
    import torch
    from transformers import DPTConfig, DPTForDepthEstimation, DPTImageProcessor

    folder = tmp_path_factory.mktemp("depth") / "tiny-dpt"
    torch.manual_seed(0)
    model = DPTForDepthEstimation(DPTConfig(
        image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=4, backbone_out_indices=[0, 1, 2, 3],
        num_attention_heads=4, intermediate_size=37, neck_hidden_sizes=[16, 16, 32, 32], fusion_hidden_size=16))
    with torch.no_grad():   # an answer that varies across the picture (a fresh model's is near zero everywhere)
        for layer in model.modules():
            if isinstance(layer, torch.nn.Conv2d):
                layer.weight.normal_(0, 0.3)
        model.head.head[-2].bias.fill_(1.0)
    model.save_pretrained(folder)
    DPTImageProcessor(size={"height": 32, "width": 32}, keep_aspect_ratio=False).save_pretrained(folder)
    return folder


@pytest.fixture
def picture():
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (48, 80, 3), dtype=np.uint8))


def test_depth_is_the_models_answer_stretched_to_the_picture(dpt, picture):
    import torch
    from transformers import AutoModelForDepthEstimation, DPTImageProcessorPil

    net = AutoModelForDepthEstimation.from_pretrained(dpt).eval()
    with torch.no_grad():
        raw = net(**DPTImageProcessorPil.from_pretrained(dpt)(images=picture, return_tensors="pt")).predicted_depth
    got = estimate(picture, str(dpt), device="cpu")
    assert got.shape == (48, 80)
    side = raw.shape[-1]   # DPT answers at twice its input's size
    small = np.asarray(Image.fromarray(got).resize((side, side), Image.BILINEAR))
    assert np.corrcoef(small.ravel(), raw[0].numpy().ravel())[0, 1] > 0.9
    out = np.asarray(Depth(model=str(dpt), device="cpu").process(picture))
    assert out.shape == (48, 80, 3) and out.min() == 0 and out.max() == 255
    assert (out[..., 0] == out[..., 1]).all()
    near = np.unravel_index(np.argmax(got), got.shape)
    assert out[near][0] == 255   # the nearest point is white


def test_normals_of_a_ramp_lean_away_from_the_near_side():
    ramp = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (32, 1))   # nearer to the right
    n = normals(ramp, strength=8.0)
    assert np.allclose(np.linalg.norm(n, axis=-1), 1, atol=1e-5)
    middle = n[16, 32]
    assert middle[0] < -0.05 and abs(middle[1]) < 1e-6 and middle[2] > 0   # faces left, towards the viewer
    flat = normals(np.zeros((8, 8), np.float32))
    assert np.allclose(flat, [0, 0, 1])


def test_normal_map_from_the_model_is_rgb_of_unit_normals(dpt, picture):
    out = np.asarray(Normal(model=str(dpt), device="cpu").process(picture)).astype(np.float32)
    assert out.shape == (48, 80, 3)
    n = out / 127.5 - 1
    assert np.allclose(np.linalg.norm(n, axis=-1), 1, atol=0.03) and (n[..., 2] > 0).all()


def test_without_a_depth_model_the_error_says_what_to_add(tmp_path, monkeypatch, picture):
    monkeypatch.setenv("ANIMSTUDIO_HOME", str(tmp_path / "home"))
    with pytest.raises(InvalidInputError, match="need a depth model.*image.depth_model"):
        Depth().process(picture)
    (tmp_path / "clip").mkdir()
    (tmp_path / "clip" / "config.json").write_text('{"model_type": "clip"}')
    with pytest.raises(InvalidInputError, match="holds a clip model, not a depth-estimation model"):
        Depth(model=str(tmp_path / "clip")).process(picture)
    with pytest.raises(InvalidInputError, match="no depth model 'nothing-here'"):
        Normal(model="nothing-here").process(picture)


def test_a_missing_library_names_the_extra_that_installs_it():
    from animstudio.errors import MissingDependencyError
    from animstudio.image.base import torch_and

    with pytest.raises(MissingDependencyError, match=r"animstudio\[image\]"):
        torch_and("animstudio_no_such_library", "Depth control images")
