"""The analysis tools on the sample clip, asserted against its ground truth; their schemas, their
bad arguments, `animstudio tools call`, the analyze command's flags and the package's public API."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from animstudio.errors import InvalidInputError
from animstudio.tools import get_tool, tools
from conftest import assert_bad_input, run_cli

NAMES = ("analyze.scenes", "analyze.camera", "analyze.audio", "analyze.report")


def test_the_tools_are_registered():
    assert set(NAMES) <= set(tools())


def test_scenes_tool_finds_the_ground_truth(sample_clip):
    clip, truth = sample_clip
    result = get_tool("analyze.scenes")(file=str(clip), options={"cut_blocks": 0.5})
    assert result.detector == "animation" and result.video.frame_count == truth["frame_count"] == 288
    assert result.cuts == truth["cuts"] == [29, 77, 187, 240]
    assert result.flashes == truth["flashes"] == [53]
    assert [(t.type, t.start_frame, t.end_frame) for t in result.transitions] == [("dissolve", 119, 131)]
    assert len(result.shots) == 6
    assert [(s.start_frame, s.end_frame) for s in result.shots] == [(s["start"], s["end"]) for s in truth["shots"]]
    assert [s.start_s for s in result.shots] == [round(s["start"] / 24, 6) for s in truth["shots"]]   # 6 places
    assert result.shots[-1].end_s == 12.0
    content = get_tool("analyze.scenes")(file=str(clip), detector="content")
    assert content.detector == "content" and content.cuts == [29, 53, 77, 187, 240]   # the flash is a cut to it


def test_camera_tool_labels_each_shot(sample_clip):
    clip, truth = sample_clip
    result = get_tool("analyze.camera")(file=str(clip))
    assert [m.shot for m in result.camera] == [s.index for s in result.shots] == [0, 1, 2, 3, 4, 5]
    assert [m.label for m in result.camera] == [s["camera"] for s in truth["shots"]] == \
        ["static", "static", "pan_right", "zoom_in", "static", "static"]
    expected_pan = truth["shots"][2]["content_dx_px_per_frame"] * truth["fps"] / truth["width"]   # -0.225
    assert abs(result.camera[2].pan_per_s - expected_pan) < 0.02


def test_audio_tool_measures_loudness_speech_and_silences(sample_clip):
    clip, truth = sample_clip
    result = get_tool("analyze.audio")(file=str(clip))
    assert result.has_audio
    assert (result.integrated_lufs, result.loudness_range_lu, result.true_peak_dbfs) == (-22.6, 6.1, -8.6)
    silences = [(s.start_s, s.end_s) for s in result.silences]
    assert silences == [(0.0, 1.35), (2.75, 5.35), (7.4, 7.9)]
    # the gaps before, between and after the first phrases of the ground truth
    phrases = [(p["start_s"], p["end_s"]) for p in truth["speech"]]
    assert [round(a, 1) for a in (phrases[0][0], phrases[0][1], phrases[1][0], phrases[1][1], phrases[2][0])] == \
        [1.4, 2.7, 5.4, 7.4, 7.9]
    speech = [(s.start_s, s.end_s) for s in result.speech]
    assert speech == [(1.344, 1.728), (6.56, 6.88), (8.288, 8.608), (10.72, 11.264)]
    for start, end in speech:   # each segment lies in a phrase of the ground truth (32 ms chunks)
        assert any(a - 0.032 <= start and end <= b + 0.032 for a, b in phrases), (start, end)
    assert result.speech_ratio == 0.1306   # of the decoded track's length
    assert result.speech_ratio == pytest.approx(sum(b - a for a, b in speech) / 12.0, abs=2e-4)


def test_report_tool_writes_the_folder(tmp_path, sample_clip):
    from animstudio.analysis import SceneResult, VideoAnalysis

    clip, truth = sample_clip
    out = tmp_path / "report"
    result = get_tool("analyze.report")(file=str(clip), output=str(out))
    names = ["analysis.json", "timeline.otio", "contact_sheet.png", "report.html"]
    assert result.folder == str(out) and result.files == [str(out / name) for name in names]
    assert sorted(p.name for p in out.iterdir()) == [".animstudio-output.json", *sorted(names)]   # + what wrote it
    assert (result.shots, result.cuts, result.duration_s) == (6, truth["cuts"], 12.0)
    data = json.loads((out / "analysis.json").read_text())
    # the keys analysis.json always had: VideoAnalysis is a SceneResult plus the per-shot measures
    assert set(data) == {"schema_version", "video", "detector", "cuts", "shots", "transitions", "flashes", "signal",
                         "camera", "composition", "coherence", "audio", "timings_s", "lines"}
    analysis = VideoAnalysis.model_validate_json((out / "analysis.json").read_text())
    assert isinstance(analysis, SceneResult) and analysis.cuts == truth["cuts"] and analysis.flashes == [53]
    assert len(analysis.signal) == truth["frame_count"] and len(analysis.camera) == len(analysis.shots) == 6
    assert "signal" not in SceneResult.model_validate(data).model_dump()   # `analyze scenes --json` leaves it out


@pytest.mark.parametrize("name", NAMES)
def test_each_schema_validates_its_example(name):
    import jsonschema

    found = get_tool(name)
    assert found.example and found.description
    jsonschema.validate(found.example, found.schema())
    found.Options.model_validate(found.example)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**found.example, "file": 3}, found.schema())


@pytest.mark.parametrize("name,arguments,named", [
    ("analyze.scenes", {"file": 3}, "file"),
    ("analyze.scenes", {"file": "a.mp4", "options": "cut_blocks=0.5"}, "options"),
    ("analyze.scenes", {"file": "a.mp4", "fast": "sometimes"}, "fast"),
    ("analyze.scenes", {"file": "a.mp4", "treshold": 0.5}, "treshold"),
    ("analyze.camera", {"file": ["a.mp4"]}, "file"),
    ("analyze.audio", {"file": {"path": "a.mp4"}}, "file"),
    ("analyze.report", {"file": "a.mp4", "output": 5}, "output"),
    ("analyze.report", {"file": "a.mp4"}, "output"),
])
def test_a_wrong_argument_is_one_line(name, arguments, named):
    with pytest.raises(InvalidInputError) as caught:
        get_tool(name)(**arguments)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{name}: ") and named in message


def test_tools_call_prints_the_result_and_refuses_a_wrong_type(sample_clip):
    clip, truth = sample_clip
    proc = run_cli("tools", "call", "analyze.scenes", "--args",
                   json.dumps({"file": str(clip), "detector": "animation", "options": {"cut_blocks": 0.5}}))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["cuts"] == truth["cuts"] and out["flashes"] == truth["flashes"] and len(out["shots"]) == 6
    assert "signal" not in out
    bad = run_cli("tools", "call", "analyze.scenes", "--args", json.dumps({"file": str(clip), "fast": [1]}))
    assert_bad_input(bad, "analyze.scenes", "fast", code=2)


def test_analyze_flags_come_from_the_request_models():
    """No hand-written option repeats a field of the command's model; the flags users have are kept."""
    import typer.main

    from animstudio.cli.analyze import app

    flags: dict[str, set[str]] = {}
    for command in app.registered_commands:
        model = getattr(command.callback, "options_model", None)
        click = typer.main.get_command_from_info(command, pretty_exceptions_short=True,
                                                 rich_markup_mode=None)
        flags[click.name] = {flag for p in click.params for flag in p.opts + p.secondary_opts}
        if model is None:
            continue
        for param in click.params:
            if param.param_type_name != "option" or param.name.startswith("opt__"):
                continue
            assert param.name not in model.model_fields, (click.name, param.name)
            assert not {o.lstrip("-").replace("-", "_") for o in param.opts} & set(model.model_fields), \
                (click.name, param.opts)
    assert {"-d", "--detector", "-O", "--option", "--fast", "--json"} <= flags["scenes"]
    assert {"-d", "--detector", "-O", "--option", "-o", "--output"} <= flags["report"]
    assert {"-d", "--detector", "-O", "--option"} <= flags["all"]
    assert "--json" in flags["camera"] and "--json" in flags["audio"] and "--json" in flags["detectors"]


def test_the_public_api_is_lazy_and_complete():
    code = ("import sys, animstudio.analysis as a; "
            "assert not any(m.startswith(('numpy', 'av', 'animstudio.analysis.')) for m in sys.modules), "
            "sorted(m for m in sys.modules if m.startswith('animstudio')); print(len(a.__all__))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    import importlib
    import inspect

    import animstudio.analysis as api

    for module in ("analyze", "scenes", "features", "detector", "camera", "composition", "coherence", "audio",
                   "report", "commands", "tools"):
        importlib.import_module(f"animstudio.analysis.{module}")   # binds each module on the package
    assert int(proc.stdout) == len(api.__all__)
    for name in api.__all__:
        value = getattr(api, name)
        assert not inspect.ismodule(value), name
        assert getattr(value, "__module__", "animstudio.analysis").startswith("animstudio.analysis"), name
    from animstudio.analysis.scenes import detect_scenes

    assert api.detect_scenes is detect_scenes
    with pytest.raises(AttributeError):
        api.no_such_thing  # noqa: B018
