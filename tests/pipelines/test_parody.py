"""The parody job end to end on real clips with the smallest catalog LLM (the content is weak; the
mechanics are what is checked): outputs, the hearing gate, subtitles, OTIO, and resuming a job
killed while it renders."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import run_cli


@pytest.fixture(scope="module")
def models(parody_models):
    return parody_models


def run_command(command, clip, out, models):
    """``animstudio COMMAND CLIP -o OUT`` with the smallest LLM, as a user runs it."""
    return run_cli(command, str(clip), "-o", str(out), "--model", "smollm2-135m-instruct",
                   env={"ANIMSTUDIO_MODELS": str(models)})


def check_outputs(out):
    from animstudio.editing.timeline import Edit
    from animstudio.media import probe
    from animstudio.media.subtitles import read_subtitles

    for name in ("parody.mp4", "parody.srt", "parody.otio", "plan.json", "report.html", "manifest.json"):
        assert (out / name).is_file(), name
    info = probe(out / "parody.mp4")
    assert info.video_codec == "h264" and info.audio and info.audio[0].codec == "aac"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    planned = manifest["steps"]["edit"]["outputs"]["duration_s"]
    assert abs(info.duration_s - planned) <= 0.1 * planned
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    lines = [line["text"] for shot in plan["shots"] for line in shot["lines"]]
    cues = read_subtitles(out / "parody.srt")
    assert len(cues) == len(lines) == len(list((out / "voices").glob("*.wav"))) > 0
    assert all(c.text.endswith(text) for c, text in zip(cues, lines, strict=True))   # "Name: line" or the line
    report = (out / "report.html").read_text(encoding="utf-8")
    assert report.count("<small>WER ") == len(lines)   # every line's hearing check is in the report
    failed = [d for d in manifest["decisions"] if "failed the WER gate" in d["decision"]]
    assert report.count("FAILED") == len(failed)
    timeline = Edit.load(out / "parody.otio")
    assert len(timeline.clips) >= len(json.loads((out / "plan.json").read_text())["shots"])
    return manifest


def test_parody_of_the_sample_clip(models, sample_clip, tmp_path):
    clip, truth = sample_clip
    out = tmp_path / "out"
    proc = run_command("parody", clip, out, models)
    assert proc.returncode == 0, proc.stderr
    assert f"Output: {out}" in proc.stdout
    manifest = check_outputs(out)
    assert manifest["inputs"]["clip"]["sha256"] and manifest["models"]["smollm2-135m-instruct"]
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert [s["shot"] for s in plan["shots"]] == list(range(len(truth["shots"])))
    # the longest third of the shots get a beat: the schema leaves the model no other choice
    assert sum(s["beat"] != "none" for s in plan["shots"]) == max(1, len(truth["shots"]) // 3)
    # the folder is the parody's now: another command may not write into it (a parody run again may)
    other = run_cli("narrate", str(clip), "-o", str(out), env={"ANIMSTUDIO_MODELS": str(models)})
    assert other.returncode == 1 and "`animstudio narrate` did not write" in other.stderr
    # the film's shots went into the knowledge base, one record per shot, searchable by what they show
    indexed = manifest["steps"]["analyze"]["outputs"]["indexed_shots"]
    assert indexed == len(truth["shots"])
    sources = json.loads(run_cli("kb", "list", "--collection", "films", "--json",
                                 env={"ANIMSTUDIO_MODELS": str(models)}).stdout)
    assert sources == {f"film:{clip}": {**sources[f"film:{clip}"], "chunks": indexed}}
    found = run_cli("kb", "search", "shot 2", "--collection", "films", "--where", '{"shot": 2}', "--json",
                    env={"ANIMSTUDIO_MODELS": str(models)})
    assert found.returncode == 0, found.stderr
    assert [h["id"] for h in json.loads(found.stdout)] == [f"shot:{clip.name}:2"]


@pytest.mark.slow
def test_a_job_killed_while_rendering_resumes_without_redoing_steps(models, sample_clip, tmp_path, studio_home):
    clip, _ = sample_clip
    out = tmp_path / "out"
    env = dict(os.environ, ANIMSTUDIO_MODELS=str(models))
    proc = subprocess.Popen([sys.executable, "-m", "animstudio", "parody", str(clip), "-o", str(out), "--model",
                             "smollm2-135m-instruct"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = studio_home / "jobs" / "jobs.sqlite"
    deadline = time.monotonic() + 400
    job = None
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            with sqlite3.connect(db) as con:
                row = con.execute("SELECT job FROM events WHERE step = 'render' ORDER BY seq LIMIT 1").fetchone()
            if row:
                job = row[0]
                break
        time.sleep(0.1)
    assert job is not None, proc.communicate()[1].decode()[-2000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    resumed = run_cli("jobs", "resume", job, env={"ANIMSTUDIO_MODELS": str(models)})
    assert resumed.returncode == 0, resumed.stderr
    check_outputs(out)
    with sqlite3.connect(db) as con:
        starts = dict(con.execute("SELECT step, COUNT(*) FROM events WHERE job = ? AND message = 'started' "
                                  "GROUP BY step", (job,)).fetchall())
    assert starts == {"analyze": 1, "plan": 1, "voices": 1, "edit": 1, "render": 2, "report": 1}


@pytest.mark.slow
def test_a_two_second_clip_without_sound(models, tmp_path):
    from conftest import ffmpeg

    clip = tmp_path / "silent.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=24:duration=2", "-c:v", "libx264", "-pix_fmt", "yuv420p",
           str(clip))
    out = tmp_path / "out"
    proc = run_command("parody", clip, out, models)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert any("no sound" in d["decision"] for d in manifest["decisions"])
    assert manifest["steps"]["analyze"]["outputs"]["shots"] == 1   # one shot, planned as one
    assert len(json.loads((out / "plan.json").read_text(encoding="utf-8"))["shots"]) == 1
    from animstudio.media import probe

    info = probe(out / "parody.mp4")
    assert info.audio and abs(info.duration_s - manifest["steps"]["edit"]["outputs"]["duration_s"]) < 0.3


@pytest.mark.slow
def test_parody_of_big_buck_bunny(models, shared_data, tmp_path):
    out = tmp_path / "out"
    proc = run_command("parody", shared_data / "video" / "big_buck_bunny_0_30.webm", out, models)
    assert proc.returncode == 0, proc.stderr
    check_outputs(out)


def test_bad_clips_and_folders(models, tmp_path, sample_clip):
    env = {"ANIMSTUDIO_MODELS": str(models)}
    missing = run_cli("parody", str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "out"), env=env)
    assert missing.returncode == 1 and "nope.mp4" in missing.stderr
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine", encoding="utf-8")
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"not a video")
    bad = run_cli("parody", str(clip), "-o", str(tmp_path / "new"), env=env)
    assert bad.returncode == 1 and "not a media file" in bad.stderr
    taken = run_cli("parody", str(sample_clip[0]), "-o", str(tmp_path / "taken"), env=env)
    assert taken.returncode == 1 and "did not write; choose a new or empty folder" in taken.stderr
    assert (tmp_path / "taken" / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "taken"]


def test_an_hour_long_clip_is_refused_over_the_limit(models, tmp_path):
    from conftest import ffmpeg

    clip = tmp_path / "hour.mp4"   # 61 minutes at one frame a second: seconds to make, an hour to play
    ffmpeg("-f", "lavfi", "-i", "color=c=teal:size=64x64:rate=1:duration=3660", "-c:v", "libx264", "-preset",
           "ultrafast", "-pix_fmt", "yuv420p", str(clip))
    out = tmp_path / "out"
    proc = run_command("parody", clip, out, models)
    assert proc.returncode == 1
    assert "lasts 61.0 min, over the limit of 10 min" in proc.stderr and "--max-minutes" in proc.stderr
    assert not out.exists()


@pytest.mark.slow
def test_narrate_has_only_the_narrator_and_no_beats(models, sample_clip, tmp_path):
    clip, _ = sample_clip
    out = tmp_path / "out"
    proc = run_command("narrate", clip, out, models)
    assert proc.returncode == 0, proc.stderr
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert {s["beat"] for s in plan["shots"]} == {"none"}
    assert {line["speaker"] for s in plan["shots"] for line in s["lines"]} <= {"narrator"}
    check_outputs(out)


def test_a_plan_that_never_fits_fails_the_job_and_writes_nothing(sample_clip, tmp_path, scripted_llm):
    from animstudio.jobs import JobStore, run, submit
    from animstudio.llm.client import StructuredOutputError

    engine = scripted_llm(lambda request: "Here is the plan: the bunny sleeps.")   # never the JSON asked for
    clip, _ = sample_clip
    store = JobStore(tmp_path / "jobs")
    job = submit("parody", {"clip": str(clip), "output": str(tmp_path / "out")}, store)
    with pytest.raises(StructuredOutputError, match="does not fit PlanDraft"):
        run(job.id, store)
    failed = store.get(job.id)
    assert failed.status == "failed" and failed.error.startswith("plan: the model's answer does not fit PlanDraft")
    assert [s.status for s in failed.steps][:2] == ["done", "pending"] and not (tmp_path / "out").exists()
    # the plan was asked for once and repaired once, with the schema each time
    assert len(engine.requests) == 2
    assert engine.requests[1]["messages"][-1]["content"].startswith("That does not fit the schema")
    assert {r["response_format"]["json_schema"]["name"] for r in engine.requests} == {"PlanDraft"}


def test_a_brief_the_model_cannot_plan_falls_back_and_says_so(sample_clip, tmp_path, scripted_llm):
    from animstudio.jobs import JobStore, run_job
    from animstudio.pipelines import parody
    from animstudio.testing.engines import fill_schema, request_schema

    briefs = []

    def literal(request):
        """Writes blank lines for any brief but the default one."""
        schema = request_schema(request)
        if schema["title"] == "Shortened":
            return json.dumps(fill_schema(schema, lambda name: "Short."))
        if schema["title"] == "Judged":   # the critic is content: no revision
            return json.dumps({"score": 9, "problems": []})
        briefs.append(request["messages"][-1]["content"].split("\n")[0])
        line = "Here the bunny sleeps." if "nature documentary" in briefs[-1] else " "
        return json.dumps(fill_schema(schema, lambda name: {"line": line, "caption": "Zzz", "title": "T"}[name]))

    class PlanOnly(parody.Parody):
        """The parody's own first two steps."""

        def steps(self):
            return super().steps()[:2]

    engine = scripted_llm(literal)
    clip, _ = sample_clip
    store = JobStore(tmp_path / "jobs")
    pipeline = PlanOnly(clip=str(clip), brief="a haiku about tax law")
    job = store.create("parody", pipeline.options.model_dump(mode="json"), ["analyze", "plan"])
    run_job(store, job.id, pipeline)
    plan = store.get(job.id).steps[1].outputs
    assert len(briefs) == 2 and "a haiku about tax law" in briefs[0] and "hushed nature documentary" in briefs[1]
    assert [request_schema(r)["title"] for r in engine.requests][:2] == ["PlanDraft", "PlanDraft"]
    assert any("planned again as a nature documentary" in d["decision"] for d in plan["decisions"])
    planned = json.loads((job.folder / "plan.json").read_text(encoding="utf-8"))
    lines = [line["text"] for shot in planned["shots"] for line in shot["lines"]]
    assert plan["lines"] == len(lines) >= 1 and set(lines) <= {"Here the bunny sleeps.", "Short."}
