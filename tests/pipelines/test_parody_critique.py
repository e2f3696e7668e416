"""The parody's writing by Reflexion, driven by a scripted engine served over HTTP: the draft is
critiqued against the comedy rubric, revised with the critique in view and critiqued again; the
critiques reach the plan step's outputs and the report's decisions. With a model that reads images,
the writer and the critic receive each shot's keyframe; with a text-only one, no image is sent."""

from __future__ import annotations

import json

import pytest

from animstudio.jobs.runner import Context
from animstudio.pipelines import get_pipeline
from animstudio.pipelines.parody import step_analyze, step_plan
from animstudio.testing.engines import fill_schema, request_schema


def _images(request) -> list[str]:
    return [part["image_url"]["url"] for m in request["messages"] if isinstance(m.get("content"), list)
            for part in m["content"] if part.get("type") == "image_url"]


def _run_plan(clip, folder, scripted_llm):
    scores = iter([5, 9])
    seen = []

    def script(request):
        seen.append(request)
        schema = request_schema(request)
        if set(schema.get("properties", {})) == {"score", "problems"}:
            return json.dumps({"score": next(scores), "problems": ["shot 1: the joke is not about the bunny"]})
        return json.dumps(fill_schema(schema))

    scripted_llm(script)
    pipeline = get_pipeline("parody", clip=str(clip), brief="nature documentary")
    ctx = Context(folder, pipeline.options, kind="parody")
    ctx.outputs["analyze"] = step_analyze(ctx)
    return step_plan(ctx), seen, ctx


@pytest.mark.parametrize("vision", [True, False], ids=["reads-images", "text-only"])
def test_the_script_is_critiqued_and_revised(vision, studio_home, sample_clip, scripted_llm, tmp_path, monkeypatch):
    monkeypatch.setenv("ANIMSTUDIO_LLM__VISION", "true" if vision else "false")
    clip, truth = sample_clip
    outputs, seen, ctx = _run_plan(clip, tmp_path, scripted_llm)
    writer, critic, revision, second_critic = seen[:4]
    assert [c["score"] for c in outputs["critiques"]] == [5, 9]          # revised once, then above the bar
    assert any("specific: each line and caption is about what is on screen" in str(m["content"])
               for m in critic["messages"])
    asked_again = str(revision["messages"][-1]["content"])
    assert "Critiques so far" in asked_again and "the joke is not about the bunny" in asked_again
    assert any(d["decision"] == "critique 1: 5/10" for d in ctx.decisions)
    shots = len(truth["shots"])
    if vision:   # each shot's keyframe, to the writer, the critic and the revision
        for request in (writer, critic, revision, second_critic):
            images = _images(request)
            assert len(images) == shots and all(u.startswith("data:image/jpeg;base64,") for u in images)
    else:
        assert not any(_images(request) for request in seen)
