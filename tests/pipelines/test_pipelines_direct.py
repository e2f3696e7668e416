"""Pipelines run without a job store, from Python, as the agent and scripts call them: the files land
in the folder given, progress reaches the callback, and no job is recorded."""

from __future__ import annotations

import json

import pytest

from animstudio.errors import InvalidInputError, MediaUnreadableError
from animstudio.pipelines import get_pipeline, pipeline_names


def test_the_built_in_pipelines_are_registered():
    assert set(pipeline_names()) >= {"parody", "narrate", "analyze", "highlights", "render"}


def test_highlights_without_a_job_store(sample_clip, tmp_path, studio_home):
    from animstudio.media import probe

    clip, _ = sample_clip
    events = []
    pipeline = get_pipeline("highlights", clip=str(clip), duration_s=4.0, preset="draft")
    outputs = pipeline.run(tmp_path / "reel", on_progress=events.append)
    assert set(outputs) == {"highlights"}
    result = outputs["highlights"]
    assert result["video"] == "highlights.mp4" and result["timeline"] == "highlights.otio"
    video = probe(tmp_path / "reel" / "highlights.mp4")
    assert video.duration_s == pytest.approx(result["duration_s"], abs=0.1)
    assert video.duration_s == pytest.approx(4.0, abs=0.5)
    assert events[0].task == "highlights" and events[0].message == "started"
    assert events[-1].message == "done" and events[-1].fraction == 1.0
    assert not (studio_home / "jobs").exists()   # nothing recorded


def test_parameters_are_checked_before_any_work(tmp_path, sample_clip):
    with pytest.raises(InvalidInputError, match="invalid duration_s -1"):
        get_pipeline("highlights", clip="a.mp4", duration_s=-1)
    with pytest.raises(MediaUnreadableError, match="clip nope.mp4 does not exist"):
        get_pipeline("highlights", clip="nope.mp4").run(tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.fixture(scope="module")
def small_models(parody_models):
    return parody_models


def test_narrate_without_a_job_store(small_models, sample_clip, tmp_path, studio_home, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_MODELS", str(small_models))
    clip, truth = sample_clip
    folder = tmp_path / "narration"
    outputs = get_pipeline("narrate", clip=str(clip), model="smollm2-135m-instruct", preset="draft").run(folder)
    assert list(outputs) == ["analyze", "plan", "voices", "edit", "render", "report"]
    assert outputs["analyze"]["shots"] == len(truth["shots"])
    for name in ("parody.mp4", "parody.otio", "plan.json", "voices.json", "report.html", "manifest.json"):
        assert (folder / name).is_file(), name
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "narrate" and manifest["job"] == "" and manifest["parameters"]["seed"] == 7
    plan = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    assert {line["speaker"] for shot in plan["shots"] for line in shot["lines"]} <= {"narrator"}
    assert {shot["beat"] for shot in plan["shots"]} == {"none"}
    assert not (studio_home / "jobs").exists()


def test_a_reel_takes_styles_by_name_and_they_reach_the_picture(sample_clip, tmp_path, studio_home):
    """The styles the web UI's Edit page ticks: noir makes every pixel grey; the reel's timeline keeps
    the style, and a render of it with another style adds that one on top."""
    import numpy as np

    from animstudio.editing import Edit
    from animstudio.media.frames import read_frame

    clip, _ = sample_clip
    with pytest.raises(InvalidInputError, match="unknown style 'sepia'; use one or more of: cartoon_pop"):
        get_pipeline("highlights", clip=str(clip), styles=["Noir", "sepia"]).check()
    reel = get_pipeline("highlights", clip=str(clip), duration_s=3.0, preset="draft", styles=["Noir"])
    reel.run(tmp_path / "reel")
    assert Edit.load(tmp_path / "reel" / "highlights.otio").output.styles == ["noir"]
    frame = read_frame(tmp_path / "reel" / "highlights.mp4", 1.0).image.astype(int)
    assert np.abs(frame[..., 0] - frame[..., 1]).max() <= 6 and np.abs(frame[..., 1] - frame[..., 2]).max() <= 6
    assert frame.std() > 10                                      # a picture, not a grey card
    again = get_pipeline("render", clip=str(tmp_path / "reel" / "highlights.otio"), preset="draft",
                         styles=["letterbox"])
    again.run(tmp_path / "framed")
    framed = read_frame(tmp_path / "framed" / "render.mp4", 1.0).image.astype(int)
    assert framed[:4].max() <= 20 and framed[-4:].max() <= 20     # letterbox bars on top of the noir
    assert Edit.load(tmp_path / "reel" / "highlights.otio").output.styles == ["noir"]   # the file unchanged
