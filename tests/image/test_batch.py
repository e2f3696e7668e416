"""Batches on the tiny random SDXL: prompts x seeds x presets from a file, a batch killed after three
images finishes with only the other three, and pictures under the consistency threshold are made
again with new seeds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tiny
from PIL import Image

from animstudio.errors import InvalidInputError
from animstudio.image.batch import BatchRequest, expand, run_batch
from animstudio.image.metadata import read_png_parameters

pytest.importorskip("diffusers")

SHOTS = """\
prompts:
  - a fox in the snow
  - {prompt: a fox at night, negative_prompt: blurry}
seeds: [1, 2, 3]
width: 64
height: 64
steps: 2
sampler: Euler
"""


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return tiny.sdxl(tmp_path_factory.mktemp("batch-models") / "tiny-sdxl")


def test_a_file_expands_to_prompts_times_seeds(tmp_path):
    (tmp_path / "shots.yaml").write_text(SHOTS)
    items = expand(BatchRequest(file=tmp_path / "shots.yaml", output=tmp_path / "out"))
    assert [(i.request.prompt, i.seed) for i in items] == [
        ("a fox in the snow", 1), ("a fox in the snow", 2), ("a fox in the snow", 3),
        ("a fox at night", 1), ("a fox at night", 2), ("a fox at night", 3)]
    assert items[4].request.negative_prompt == "blurry" and items[0].file == "0000-custom-1.png"
    (tmp_path / "rows.csv").write_text("prompt,seed,preset\na fox,4,draft\na cat,5,high\n")
    rows = expand(BatchRequest(file=tmp_path / "rows.csv", output=tmp_path / "out"))
    assert [(i.request.prompt, i.seed, i.request.steps) for i in rows] == [("a fox", 4, 12), ("a cat", 5, 50)]
    (tmp_path / "bad.yaml").write_text("prompts:\n  - {prompt: a fox, steps: many}\n")
    with pytest.raises(InvalidInputError, match="batch prompt 1.*steps"):
        expand(BatchRequest(file=tmp_path / "bad.yaml", output=tmp_path / "out"))


@pytest.mark.slow
def test_a_batch_killed_after_three_images_makes_only_the_other_three(checkpoint, tmp_path):
    # enough steps that the six pictures take seconds, so the kill lands between the third and the sixth
    (tmp_path / "shots.yaml").write_text(SHOTS.replace("steps: 2", "steps: 40"))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "animstudio", "image", "batch", str(tmp_path / "shots.yaml"), "-o", str(out),
           "-m", str(checkpoint), "--device", "cpu", "--json"]
    env = dict(os.environ, ANIMSTUDIO_HOME=str(tmp_path / "home"))
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list(out.glob("*.png"))) < 3:
        assert first.poll() is None and time.monotonic() < deadline, "the batch ended before its third image"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    before = {p.name: p.read_bytes() for p in out.glob("*.png")}
    assert 3 <= len(before) < 6 and not list(out.glob("*.tmp*"))   # whole PNGs only
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    done = json.loads(second.stdout)
    assert (done["made"], done["skipped"]) == (6 - len(before), len(before))
    assert sorted(p.name for p in out.glob("*.png")) == [i["file"] for i in done["items"]]
    assert all(out.joinpath(name).read_bytes() == data for name, data in before.items())   # left alone
    assert read_png_parameters(out / "0005-custom-3.png").seed == 3


def test_pictures_under_the_threshold_are_made_again_with_new_seeds(checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_HOME", str(tmp_path / "home"))
    common = dict(prompts=["a fox"], seeds=[1, 2], checkpoint=str(checkpoint), device="cpu")
    (tmp_path / "shots.yaml").write_text("prompts: [a fox]\nwidth: 64\nheight: 64\nsteps: 2\nsampler: Euler\n")
    events = []
    first = run_batch(BatchRequest(file=tmp_path / "shots.yaml", output=tmp_path / "plain", **common),
                      on_progress=events.append)
    assert [e.done for e in events] == sorted(e.done for e in events) and events[-1].done == len(first.items)
    assert any(0 < e.done < 1 and e.message == f"{first.items[0].file}: generate" for e in events)   # its steps
    reference = first.output / first.items[0].file   # the first picture is its own character
    scored = run_batch(BatchRequest(file=tmp_path / "shots.yaml", output=tmp_path / "scored", references=[reference],
                                    threshold=0.999, retries=2, **common))
    assert scored.items[0].tries == 1 and scored.items[0].score > 0.999     # itself: kept
    again = [i for i in scored.items if i.tries > 1]
    assert again and all(i.tries == 3 and i.seed != i.request.seed for i in again)   # new seeds, at most 2 more
    picture = np.asarray(Image.open(scored.output / again[0].file))
    assert picture.shape == (64, 64, 3)


def test_a_batch_records_its_pictures_in_the_generations_collection(checkpoint, minilm, tmp_path, monkeypatch):
    pytest.importorskip("chromadb")
    from animstudio.knowledge.kb import KnowledgeBase

    monkeypatch.setenv("ANIMSTUDIO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(minilm))
    (tmp_path / "shots.yaml").write_text("prompts: [a fox in the snow]\nseeds: [8, 9]\nwidth: 64\nheight: 64\n"
                                         "steps: 2\nsampler: Euler\n")
    done = run_batch(BatchRequest(file=tmp_path / "shots.yaml", output=tmp_path / "out", checkpoint=str(checkpoint),
                                  device="cpu", record=True))
    found = KnowledgeBase().collection("generations").all()
    rows = sorted(zip(found["documents"], found["metadatas"], strict=True), key=lambda r: r[1]["seed"])
    assert [(m["seed"], m["artifact"], m["output"]) for _, m in rows] == [
        (8, "image", str((done.output / "0000-custom-8.png").resolve())),
        (9, "image", str((done.output / "0001-custom-9.png").resolve()))]
    assert all("a fox in the snow" in document for document, _ in rows)


def test_an_image_batch_job_over_the_http_api(checkpoint, tmp_path):
    """POST /jobs kind image-batch: the checkpoint by its warehouse name, pictures as the job's artifacts,
    and a missing checkpoint refused before a job exists."""
    import shutil

    import httpx

    from animstudio.testing.servers import free_port, running_process

    home, warehouse = tmp_path / "home", tmp_path / "warehouse"
    warehouse.mkdir()
    shutil.copytree(checkpoint, warehouse / "tiny-sdxl")
    port = free_port()
    env = dict(os.environ, ANIMSTUDIO_HOME=str(home), ANIMSTUDIO_MODELS=str(warehouse))
    with running_process([sys.executable, "-m", "animstudio", "studio", "serve", "--port", str(port)], port, env=env,
                         what="studio", wait_s=60, health="/openapi.json", suffix="") as url:
        with httpx.Client(base_url=url, timeout=60) as http:
            params = {"prompts": ["a fox in the snow"], "seeds": [4, 5], "checkpoint": "tiny-sdxl", "device": "cpu",
                      "width": 64, "height": 64, "steps": 2, "sampler": "Euler"}
            missing = http.post("/jobs", json={"kind": "image-batch", "params": {**params, "checkpoint": "nope"}})
            assert missing.status_code == 422 and "no checkpoint 'nope'" in missing.json()["detail"]
            outside = http.post("/jobs", json={"kind": "image-batch", "params": {**params,
                                                                                 "checkpoint": "/etc/passwd"}})
            assert outside.status_code == 403 and "outside the folders this server reads" in outside.json()["detail"]
            reference = http.post("/jobs", json={"kind": "image-batch", "params": {**params,
                                                                                   "references": ["/etc/hostname"]}})
            assert reference.status_code == 403 and "reference picture" in reference.json()["detail"]
            job = http.post("/jobs", json={"kind": "image-batch", "params": params})
            assert job.status_code == 201, job.text
            deadline = time.monotonic() + 120
            while (status := http.get(f"/jobs/{job.json()['id']}").json())["status"] not in ("done", "failed"):
                assert time.monotonic() < deadline
                time.sleep(0.3)
            assert status["status"] == "done", status["error"]
            files = status["steps"][0]["outputs"]["files"]
            assert files == ["images/0000-custom-4.png", "images/0001-custom-5.png"]
            picture = http.get(f"/jobs/{job.json()['id']}/artifacts/{files[1]}")
            assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
