"""`animstudio image` as a user runs it, on the tiny random SDXL: PNGs carry A1111 parameters that
read back, the LoRA registry lists what loras.yaml says, and a missing checkpoint is one line."""

from __future__ import annotations

import json

import pytest
import tiny

from animstudio.image.checkpoints import short_hash
from animstudio.image.metadata import read_png_parameters
from conftest import assert_bad_input, run_cli

pytest.importorskip("diffusers")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return tiny.sdxl(tmp_path_factory.mktemp("cli-models") / "tiny-sdxl")


def test_generate_writes_pngs_whose_parameters_read_back(checkpoint, tmp_path):
    env = {"ANIMSTUDIO_HOME": str(tmp_path / "home")}
    done = run_cli("image", "generate", "a (red:1.3) fox, snow", "-m", str(checkpoint), "-o", str(tmp_path / "out"),
                   "--device", "cpu", "--width", "64", "--height", "72", "--steps", "2", "-n", "2", "-s", "41",
                   "--sampler", "DPM++ 2M Karras", "--negative-prompt", "blurry", "--json", env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    made = json.loads(done.stdout)
    assert [p.rsplit("/", 1)[1] for p in made["files"]] == ["image-41.png", "image-42.png"]
    found = read_png_parameters(made["files"][1])
    assert (found.prompt, found.negative_prompt, found.seed, found.steps) == ("a (red:1.3) fox, snow", "blurry", 42, 2)
    assert (found.sampler, found.schedule_type, found.width, found.height) == ("DPM++ 2M", "Karras", 64, 72)
    assert found.model_hash == short_hash(checkpoint) and len(found.model_hash) == 10
    sidecar = json.loads((tmp_path / "out" / "image-42.json").read_text())
    assert sidecar["seed"] == 42


def test_without_a_checkpoint_one_line_says_what_to_get(tmp_path):
    done = run_cli("image", "generate", "a fox", "-o", str(tmp_path / "out"), env={"ANIMSTUDIO_HOME": str(tmp_path)})
    assert_bad_input(done, "no checkpoint is set", "animstudio models add")
    assert not (tmp_path / "out").exists()
    bad = run_cli("image", "generate", "a fox", "-m", str(tmp_path), "--sampler", "Euler z",
                  env={"ANIMSTUDIO_HOME": str(tmp_path)})
    assert_bad_input(bad, "not a diffusers model folder")


def test_loras_lists_the_registry(tmp_path):
    (tmp_path / "loras.yaml").write_text("mira:\n  file: loras/mira.safetensors\n  kind: character\n"
                                         "  triggers: [mira girl]\n  weight: 0.8\n")
    done = run_cli("image", "loras", "--json", cwd=tmp_path, env={"ANIMSTUDIO_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["mira"]["triggers"] == ["mira girl"]
    (tmp_path / "loras.yaml").write_text("mira:\n  file: x.safetensors\n  weight: lots\n")
    assert_bad_input(run_cli("image", "loras", cwd=tmp_path, env={"ANIMSTUDIO_HOME": str(tmp_path / "home")}),
                     "mira", "weight")


def test_check_scores_each_picture_against_the_references(shared_data, tmp_path):
    import shutil

    toons = shared_data / "characters" / "kenney_toon"
    refs = tmp_path / "robot"
    refs.mkdir()
    for pose in ("walk0", "walk3", "jump", "fall"):
        shutil.copy(toons / "robot" / f"robot_{pose}.png", refs)
    done = run_cli("image", "check", str(toons / "robot" / "robot_idle.png"), str(toons / "zombie" / "zombie_idle.png"),
                   "--ref", str(refs), "--json", env={"ANIMSTUDIO_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr
    robot, zombie = json.loads(done.stdout)
    assert (robot["same"], zombie["same"]) == (True, False) and robot["score"] > zombie["score"]
    assert robot["threshold"] == zombie["threshold"] == 0.9
    assert_bad_input(run_cli("image", "check", str(tmp_path / "none.png"), "--ref", str(refs)), "none.png")
