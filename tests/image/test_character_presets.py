"""Character presets read from the knowledge base's bible (exact prompts), and character sheets drawn
on a tiny random SDXL: three views at one seed, reproducible to the pixel, steered by pose skeletons
through a real (tiny) ControlNet."""

from __future__ import annotations

import numpy as np
import pytest
import tiny

from animstudio.errors import InvalidInputError
from animstudio.image.characters import CharacterPreset, character_preset, character_prompt, colour_name
from animstudio.knowledge.records import CharacterRecord

ARTEFACTS = ("lowres, worst quality, low quality, blurry, jpeg artifacts, bad anatomy, bad hands, extra fingers, "
             "missing fingers, extra limbs, deformed, watermark, signature, text")
PIP = CharacterRecord(name="Pip", description="A courier fox who races over the rooftops. He never stops talking.",
                      personality="cheeky, loyal", appearance="spiky orange fur, teal scarf (knitted); round goggles, "
                                                              "no hat",
                      palette=["#ff8800", "teal"], lora="pip-v2", reference_images=["refs/pip-front.png"])
SUBJECT = (r"Pip, a courier fox who races over the rooftops, "
           r"(spiky orange fur, teal scarf \(knitted\), round goggles:1.1)")


def test_a_bible_page_becomes_a_preset_and_its_prompts(minilm, monkeypatch, tmp_path):
    pytest.importorskip("chromadb")
    from animstudio.knowledge.kb import KnowledgeBase

    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(minilm))
    kb = KnowledgeBase()
    with pytest.raises(InvalidInputError, match=r"^no character 'Pip' in the knowledge base \(characters: none "
                                                r"yet\); add their page with: animstudio kb add characters.yaml$"):
        character_preset("Pip", kb)
    kb.add_records("characters", [PIP])

    preset = character_preset("pip")          # any case, from the configured knowledge base
    assert preset == CharacterPreset(name="Pip", prompt=SUBJECT, negative="hat", palette=["#ff8800", "teal"],
                                     lora="pip-v2", lora_weight=1.0, reference_images=["refs/pip-front.png"])
    assert character_prompt(preset, "on a rooftop at dusk") == (
        f"{SUBJECT}, orange and teal color scheme, on a rooftop at dusk <lora:pip-v2:1>", f"{ARTEFACTS}, hat")
    assert character_prompt(preset, "on a rooftop at dusk", view="front") == (
        f"{SUBJECT}, orange and teal color scheme, on a rooftop at dusk, (front view, looking at viewer:1.2) "
        f"<lora:pip-v2:1>", f"{ARTEFACTS}, hat")
    assert character_prompt(preset, "", view="side") == (
        f"{SUBJECT}, orange and teal color scheme, (side view, profile:1.2) <lora:pip-v2:1>",
        f"{ARTEFACTS}, front view, looking at viewer, hat")
    assert character_prompt(preset, "rain", view="back") == (
        f"{SUBJECT}, orange and teal color scheme, rain, (back view, from behind:1.2) <lora:pip-v2:1>",
        f"{ARTEFACTS}, face, looking at viewer, hat")

    with pytest.raises(InvalidInputError, match=r"^no character 'Rick' in the knowledge base \(characters: Pip\)"):
        character_preset("Rick", kb)

    # image.generate with a character: the bible's words, then the scene; what was used is in the PNG
    from animstudio.image.commands import generate_to_files
    from animstudio.image.metadata import read_png_parameters
    from animstudio.image.requests import GenerateRequest

    checkpoint = tiny.sdxl(tmp_path / "tiny-sdxl")
    (tmp_path / "loras").mkdir()
    (tmp_path / "loras.yaml").write_text(f"pip-v2: {{file: {tiny.lora(tmp_path / 'loras' / 'pip.safetensors')}}}\n")
    monkeypatch.chdir(tmp_path)
    made = generate_to_files(GenerateRequest(prompt="on a rooftop at dusk", character="pip", checkpoint=str(checkpoint),
                                             device="cpu", output=tmp_path / "out", width=64, height=64, steps=2,
                                             sampler="Euler", negative_prompt="rain"))
    said = read_png_parameters(made.files[0])
    assert said.prompt == f"{SUBJECT}, orange and teal color scheme, on a rooftop at dusk <lora:pip-v2:1>"
    assert said.negative_prompt == f"{ARTEFACTS}, hat, rain"
    with pytest.raises(InvalidInputError, match=r"^unknown view 'top'; views: front, side, back$"):
        character_prompt(preset, "rain", view="top")


def test_the_prompt_keeps_its_weights_and_the_registry_weights_the_lora(tmp_path, monkeypatch):
    from animstudio.image.characters import preset_from_record
    from animstudio.image.prompts import extract_loras, parse_weights

    prompt, _ = character_prompt(preset_from_record(PIP), "snow", view="back")
    text, loras = extract_loras(prompt)
    assert loras == {"pip-v2": 1.0}
    assert parse_weights(text) == [
        ("Pip, a courier fox who races over the rooftops, ", 1.0),
        ("spiky orange fur, teal scarf (knitted), round goggles", pytest.approx(1.1)),
        (", orange and teal color scheme, snow, ", 1.0), ("back view, from behind", pytest.approx(1.2))]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "loras.yaml").write_text("pip-v2:\n  file: pip.safetensors\n  kind: character\n  weight: 0.7\n")
    assert preset_from_record(PIP).lora_weight == 0.7
    with pytest.raises(InvalidInputError, match=r"^character 'Odd': invalid palette.*'#ff88' is not a hex colour; "
                                                r"write #rrggbb"):
        preset_from_record(CharacterRecord(name="Odd", palette=["#ff88"]))


def test_hex_colours_are_named_by_the_nearest_named_colour():
    assert [colour_name(c) for c in ("#ff8800", "#F80", "#000080", "#a0c4ff", "#8b4513", "#fefefe", "#40e0d0",
                                     "#2e8b57", "Teal", "burnt sienna")] == [
        "orange", "orange", "navy blue", "sky blue", "brown", "white", "turquoise", "dark green", "teal",
        "burnt sienna"]


# ------------------------------------------------------------------ sheets on the tiny SDXL

SHEET = {"seed": 3, "width": 64, "height": 64, "steps": 2, "sampler": "Euler"}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    pytest.importorskip("diffusers")
    root = tmp_path_factory.mktemp("tiny-models")
    return {"sdxl": tiny.sdxl(root / "tiny-sdxl"), "lora": tiny.lora(root / "loras" / "pip.safetensors"),
            "controlnet": tiny.controlnet(root / "tiny-controlnet")}


@pytest.fixture
def backend(models, tmp_path, monkeypatch):
    from animstudio.image.diffusers_backend import DiffusersBackend

    monkeypatch.chdir(tmp_path)
    return DiffusersBackend(checkpoint=str(models["sdxl"]), device="cpu")


@pytest.fixture
def pip(models):
    return CharacterPreset(name="Pip", prompt="pip, a fox, (orange fur, teal scarf:1.1)", negative="hat",
                           palette=["#ff8800", "teal"], lora=str(models["lora"]), lora_weight=0.8)


def pixels(path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_a_sheet_shows_three_views_at_one_seed_reproducibly(backend, pip, tmp_path):
    from animstudio.image.metadata import read_png_parameters
    from animstudio.image.sheet import SCENE, character_sheet

    events = []
    result = character_sheet(backend, pip, tmp_path / "out" / "pip.png", on_progress=events.append, **SHEET)
    assert [(e.done, e.total, e.message) for e in events] == [(1, 3, "front"), (2, 3, "side"), (3, 3, "back")]
    assert result.views == {v: tmp_path / "out" / f"pip-{v}.png" for v in ("front", "side", "back")}
    assert result.seed == 3
    assert result.prompts == {v: character_prompt(pip, SCENE, v)[0] for v in ("front", "side", "back")}
    assert result.prompts["side"].endswith(f"(side view, profile:1.2) <lora:{pip.lora}:0.8>")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "pip-back.json", "pip-back.png", "pip-front.json", "pip-front.png", "pip-side.json", "pip-side.png", "pip.png"]

    sheet = pixels(result.sheet)
    assert sheet.shape == (64 + 16, 3 * 64, 3)                  # three 64-pixel views, a 16-pixel band of names
    views = {v: pixels(p) for v, p in result.views.items()}
    for i, view in enumerate(("front", "side", "back")):
        assert np.array_equal(sheet[:64, i * 64:(i + 1) * 64], views[view])
        band = sheet[64:, i * 64:(i + 1) * 64]
        assert (band < 128).any() and (band == 255).mean() > 0.7    # dark lettering on white under each view
        parameters = read_png_parameters(result.views[view])
        assert (parameters.seed, parameters.prompt) == (3, result.prompts[view])
    assert not np.array_equal(views["front"], views["side"]) and not np.array_equal(views["side"], views["back"])

    again = character_sheet(backend, pip, tmp_path / "again.png", **SHEET)
    assert np.array_equal(pixels(again.sheet), sheet)


def test_a_pose_controlnet_steers_each_view(backend, pip, models, tmp_path):
    from animstudio.image.sheet import character_sheet

    plain = character_sheet(backend, pip, tmp_path / "plain.png", **SHEET)
    posed = character_sheet(backend, pip, tmp_path / "posed.png", pose_control=str(models["controlnet"]), **SHEET)
    for view in ("front", "side", "back"):
        assert np.abs(pixels(posed.views[view]) - pixels(plain.views[view])).mean() > 2
    assert not np.array_equal(pixels(posed.views["front"]), pixels(posed.views["back"]))


def test_bad_sheet_requests_are_one_line_before_any_drawing(backend, pip, tmp_path):
    from animstudio.image.sheet import character_sheet

    with pytest.raises(InvalidInputError, match=r"character sheet .*sheet.jpg is named .jpg; name it .png"):
        character_sheet(backend, pip, tmp_path / "bad" / "sheet.jpg", **SHEET)
    with pytest.raises(InvalidInputError, match=r"^character sheet: invalid width 60: .*multiple of 8"):
        character_sheet(backend, pip, tmp_path / "bad" / "sheet.png", **{**SHEET, "width": 60})
    assert not (tmp_path / "bad").exists()
