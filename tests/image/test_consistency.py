"""Character appearance scoring on real cartoon characters (kenney_toon: 6 characters x 13 poses): fixed
pairs on the right side of the threshold, the same-vs-other AUC (the acceptance figure), robustness to
scale, position, background and JPEG, bad input, and the vision-model backend on a tiny random CLIP."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from animstudio import plugins
from animstudio.errors import InvalidInputError
from animstudio.image.appearance import PaletteEmbedder, register_appearance_embedders
from animstudio.image.consistency import THRESHOLDS, add_references, check, reference_folder, references, score
from animstudio.image.trials import composite, load_groups, make_condition, same_vs_other_auc
from animstudio.image.vision_model import VisionModelEmbedder


@pytest.fixture
def toon(shared_data):
    return shared_data / "characters" / "kenney_toon"


def poses(toon, character, leave_out=""):
    """The character's pictures (files are named like malePerson_walk3.png), less the pose ``leave_out``."""
    return [p for p in sorted((toon / character).glob("*.png")) if p.stem.split("_")[-1] != leave_out]


def picture_of(toon, character, pose):
    [path] = (toon / character).glob(f"*_{pose}.png")
    return path


def test_both_embedders_register_through_the_hook():
    found = []
    register_appearance_embedders(found.append)
    assert found == [PaletteEmbedder, VisionModelEmbedder]
    assert [plugins.check_backend("appearance_embedder", cls) for cls in found] == ["palette", "vision-model"]
    assert PaletteEmbedder.Options.model_fields["bands"].description == \
        "share of the colour histograms of head, body and legs"


@pytest.mark.parametrize(("shown", "pose", "character", "same"), [
    ("robot", "walk3", "robot", True),
    ("male_person", "climb0", "male_person", True),                  # seen from behind
    ("female_adventurer", "jump", "female_adventurer", True),
    ("zombie", "walk3", "robot", False),
    ("female_person", "idle", "male_adventurer", False),             # both wear green shirts
    ("female_adventurer", "idle", "male_person", False),
])
def test_fixed_pairs_fall_on_the_right_side_of_the_threshold(toon, shown, pose, character, same):
    picture = picture_of(toon, shown, pose)
    refs = poses(toon, character, leave_out=pose if same else "")
    assert len(refs) == (12 if same else 13)
    [result] = check([picture], refs)
    assert result.same is same
    assert result.threshold == THRESHOLDS["palette"] == 0.9
    assert result.image == str(picture)
    assert (result.score >= 0.9) is same


def test_same_vs_other_auc_on_kenney_toon(toon):
    groups = load_groups(toon)
    assert {k: len(v) for k, v in groups.items()} == {c: 13 for c in (
        "female_adventurer", "female_person", "male_adventurer", "male_person", "robot", "zombie")}
    embedder = PaletteEmbedder()
    flat = same_vs_other_auc(make_condition(groups, "flat", seed=0), embedder)        # no alpha: the main case
    noise = same_vs_other_auc(make_condition(groups, "noise", seed=0), embedder)
    assert flat >= 0.95, flat
    assert noise >= 0.95, noise


def test_scale_position_background_and_jpeg_keep_the_character(toon):
    original = Image.open(picture_of(toon, "robot", "idle"))
    assert original.mode == "P"                     # transparency through the palette
    rng = np.random.default_rng(7)
    shown = {"scaled up": composite(original, "alpha", rng, scale=2.0),
             "small, shifted": composite(original, "flat", rng, scale=0.5, margin=1.0, shift=(-20, 15)),
             "flat background": composite(original, "flat", rng),
             "noisy background": composite(original, "noise", rng),
             "no alpha, white": composite(original, "alpha", rng).convert("RGB"),
             "jpeg 75": composite(original, "flat", rng, jpeg=75)}
    assert {im.mode for name, im in shown.items() if name != "scaled up"} == {"RGB"}
    embedder = PaletteEmbedder()
    base = embedder.embed([original])[0]
    vectors = embedder.embed(list(shown.values()))
    assert vectors.shape == (6, 1110) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    cosines = dict(zip(shown, (vectors @ base).round(3), strict=True))
    assert min(cosines.values()) >= 0.9, cosines
    results = check(list(shown.values()), poses(toon, "robot", "idle"), embedder)
    assert [r.image for r in results] == [f"image {i}" for i in range(6)]
    assert all(r.same for r in results), results
    assert not any(r.same for r in check(list(shown.values()), poses(toon, "zombie")))


def test_references_kept_in_the_studio_home(toon, studio_home):
    assert references("robot") == []
    stored = add_references("robot", [toon / "robot"])
    assert len(stored) == 13 and all(p.parent == studio_home / "characters" / "robot" / "references" for p in stored)
    picture = picture_of(toon, "robot", "idle")
    assert add_references("robot", [picture]) == [stored[3]]   # not copied twice
    assert references("robot") == stored
    embedder = PaletteEmbedder()
    value = score(Image.open(picture), "robot", embedder)
    vectors = embedder.embed([Image.open(p) for p in stored])
    cosines = np.sort(vectors @ vectors[3])[::-1]
    assert cosines[0] == pytest.approx(1.0, abs=1e-5)   # its own copy is among the references
    assert value == pytest.approx(cosines[:3].mean(), abs=1e-6) and value > 0.99   # the mean of the 3 nearest
    [result] = check(picture, "robot")
    assert result.same and result.score == pytest.approx(value, abs=1e-6)


def test_bad_input_is_one_line_that_says_the_fix(toon, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_text("not a picture")
    empty = tmp_path / "empty"
    empty.mkdir()
    refs = poses(toon, "robot")
    cases = [
        (lambda: check([broken], refs), "broken.png is not a readable picture"),
        (lambda: check([refs[0]], []), "no reference pictures were given"),
        (lambda: check([tmp_path / "missing.png"], refs), "missing.png: no such file, folder or character"),
        (lambda: check([refs[0]], empty), "holds no pictures"),
        (lambda: check([], refs), "no pictures to check"),
        (lambda: add_references("../robot", refs), "is not a character name"),
        (lambda: reference_folder(".hidden"), "is not a character name"),
        (lambda: check([refs[0]], refs, VisionModelEmbedder(model="clip")), "has no measured threshold; give one"),
        (lambda: PaletteEmbedder(colour=2), "palette: invalid colour 2"),
    ]
    for call, needle in cases:
        with pytest.raises(InvalidInputError) as err:
            call()
        assert needle in str(err.value) and "\n" not in str(err.value), str(err.value)


# ------------------------------------------------------------------ vision-model on a tiny random CLIP

@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("vision") / "tiny-clip"
    torch.manual_seed(0)
    config = transformers.CLIPVisionConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                           intermediate_size=37, image_size=32, patch_size=8, projection_dim=16)
    transformers.CLIPVisionModelWithProjection(config).save_pretrained(folder)
    return folder


def test_vision_model_embeds_to_unit_rows(toon, tiny_clip):
    pictures = [Image.open(p) for p in poses(toon, "robot")[:3]] + [Image.new("RGB", (40, 70), "red")]
    embedder = VisionModelEmbedder(model=str(tiny_clip), device="cpu")
    vectors = embedder.embed(pictures)
    assert vectors.shape == (4, 16) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.array_equal(embedder.embed(pictures), vectors)                        # deterministic
    assert np.allclose(VisionModelEmbedder(model=str(tiny_clip), batch_size=1, device="cpu").embed(pictures),
                       vectors, atol=1e-5)                                          # batching changes nothing
    assert not np.allclose(vectors[0], vectors[3])
    [result] = check([pictures[3]], pictures[:3], embedder, threshold=0.5)
    assert result.threshold == 0.5 and result.same is (result.score >= 0.5)


def test_vision_model_refuses_what_is_not_one(tiny_clip, tmp_path):
    text_model = tmp_path / "bert"
    text_model.mkdir()
    (text_model / "config.json").write_text(json.dumps({"model_type": "bert"}))
    no_config = tmp_path / "loose"
    no_config.mkdir()
    picture = [Image.new("RGB", (32, 32))]
    for model, needle in [(str(tmp_path / "nowhere"), "no vision model"),
                          (str(text_model), "holds a bert model, not a vision model"),
                          (str(no_config), "has no readable config.json")]:
        with pytest.raises(InvalidInputError) as err:
            VisionModelEmbedder(model=model, device="cpu").embed(picture)
        assert needle in str(err.value) and "CLIP vision model or a DINOv2 model" in str(err.value)
        assert "\n" not in str(err.value)
