"""The edit tools on the sample clip: edit.render, edit.export and edit.highlights called as the agent
and `animstudio tools call` call them, with exact outcomes; their schemas, their bad arguments, the
edit command's flags and the editing package's public API."""

from __future__ import annotations

import json

import opentimelineio as otio
import pytest
from edit_media import cut_timeline

from animstudio.editing.timeline import Edit
from animstudio.errors import InvalidInputError
from animstudio.media import probe
from animstudio.tools import get_tool, tools
from conftest import assert_bad_input, run_cli

NAMES = ("edit.render", "edit.export", "edit.highlights")
FRAME = 1 / 24


@pytest.fixture
def timeline(sample_clip, tmp_path):
    return cut_timeline(sample_clip[0], tmp_path)


def test_the_tools_are_registered():
    assert set(NAMES) <= set(tools())


def test_render_tool_writes_the_video_and_its_captions(timeline, tmp_path):
    from animstudio.media.subtitles import read_subtitles

    out = tmp_path / "renders" / "cut.mp4"
    out.parent.mkdir()
    result = get_tool("edit.render")(timeline=str(timeline), output=str(out), preset="draft", styles=["Warm"])
    info = probe(out)
    assert (result.output, result.frames, info.frame_count) == (str(out), 70, 70)
    assert result.duration_s == pytest.approx(70 / 24, abs=1e-9)
    assert abs(info.duration_s - 70 / 24) <= FRAME and (info.width, info.height) == (320, 180)
    assert result.sidecars == [str(out.with_suffix(".srt"))]
    assert [c.text for c in read_subtitles(out.with_suffix(".srt"))] == ["Hello there"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["cut.mp4", "cut.srt"]   # no temp files left
    assert Edit.load(timeline).output.styles == []   # the styles went on top; the timeline is as it was


def test_render_tool_reframes_without_captions(timeline, tmp_path):
    out = tmp_path / "square.webm"
    result = get_tool("edit.render")(timeline=str(timeline), output=str(out), preset="draft", aspect="1:1",
                                     captions="none")
    info = probe(out)
    assert (info.width, info.height, info.frame_count, result.frames) == (180, 180, 70, 70)
    assert result.sidecars == [] and not out.with_suffix(".srt").exists()


@pytest.mark.parametrize("fmt,name", [("otio", "copy.otio"), ("edl", "cut.edl"), ("fcp7xml", "cut.xml"),
                                      (None, "named.edl")])
def test_export_tool_writes_a_file_that_reads_back(timeline, tmp_path, fmt, name):
    out = tmp_path / name
    result = get_tool("edit.export")(timeline=str(timeline), output=str(out), format=fmt)
    assert (result.output, result.format, result.clips) == (str(out), fmt or "edl", 2)
    assert result.duration_s == pytest.approx(70 / 24, abs=1e-9)
    back = otio.adapters.read_from_file(str(out))
    main = back.video_tracks()[0]
    assert len(list(main.find_clips(shallow_search=True))) == 2
    assert main.duration().to_frames() == 70 and back.duration().to_frames() == 70


def test_highlights_tool_writes_the_reel_and_its_timeline(sample_clip, tmp_path):
    clip, truth = sample_clip
    out = tmp_path / "reel.mp4"
    result = get_tool("edit.highlights")(clip=str(clip), output=str(out), duration_s=4, transition="cut",
                                         preset="draft")
    info = probe(out)
    assert result.output == str(out) and result.timeline == str(tmp_path / "reel.otio")
    assert result.frames == info.frame_count == 4 * 24 and abs(info.duration_s - 4.0) <= FRAME and info.audio
    reel = Edit.load(result.timeline)
    assert len(reel.clips) == result.clips >= 2 and reel.duration_s == pytest.approx(4.0, abs=FRAME)
    starts = [c.source_range.start_time.to_seconds() for c in reel.clips]
    assert starts == sorted(starts) and all(0 <= s < truth["duration_s"] for s in starts)   # story order
    assert not any(isinstance(item, otio.schema.Transition) for item in reel.main)   # "cut": no transitions


@pytest.mark.parametrize("name", NAMES)
def test_each_schema_validates_its_example(name):
    import jsonschema

    found = get_tool(name)
    assert found.example and found.description
    jsonschema.validate(found.example, found.schema())
    assert found.Options.model_validate(found.example).model_dump(exclude_defaults=True)
    key = next(iter(found.Options.model_fields))   # the timeline or the clip
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**found.example, key: 7}, found.schema())


@pytest.mark.parametrize("name,arguments,named", [
    ("edit.render", {"timeline": "a.otio", "output": "a.mp4", "preset": 5}, "preset"),
    ("edit.render", {"timeline": "a.otio", "output": "a.mp4", "preset": "ultra"}, "preset"),
    ("edit.render", {"timeline": "a.otio", "output": "a.mp4", "styles": "warm"}, "styles"),
    ("edit.render", {"timeline": "a.otio", "output": "a.mp4", "styles": ["bogus"]}, "unknown style 'bogus'"),
    ("edit.render", {"timeline": "a.otio", "output": "a.mp4", "caption_size": "big"}, "caption_size"),
    ("edit.render", {"timeline": "a.otio", "output": "a.mp4", "follow": "a.json"}, "aspect"),
    ("edit.render", {"timeline": ["a.otio"], "output": "a.mp4"}, "timeline"),
    ("edit.export", {"timeline": "a.otio", "output": "a.edl", "format": "doc"}, "format"),
    ("edit.export", {"timeline": "a.otio"}, "output"),
    ("edit.highlights", {"clip": "a.mp4", "output": "r.mp4", "duration_s": "long"}, "duration_s"),
    ("edit.highlights", {"clip": "a.mp4", "output": "r.mp4", "duration_s": 0.5}, "duration_s"),
    ("edit.highlights", {"clip": "a.mp4", "output": "r.mp4", "transition": "bogus"}, "unknown transition"),
    ("edit.highlights", {"clip": "a.mp4", "output": "r.mp4", "lenght": 5}, "lenght"),
])
def test_a_wrong_argument_is_one_line(name, arguments, named):
    with pytest.raises(InvalidInputError) as caught:
        get_tool(name)(**arguments)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{name}: ") and named in message


def test_tools_call_renders_and_refuses_a_wrong_type(timeline, tmp_path):
    out = tmp_path / "called.mp4"
    args = {"timeline": str(timeline), "output": str(out), "preset": "draft", "captions": "burn"}
    proc = run_cli("tools", "call", "edit.render", "--args", json.dumps(args))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["output"] == str(out) and result["frames"] == probe(out).frame_count == 70
    assert result["sidecars"] == [] and not out.with_suffix(".srt").exists()
    bad = run_cli("tools", "call", "edit.render", "--args", json.dumps({**args, "output": str(tmp_path / "b.mp4"),
                                                                         "caption_size": "big"}))
    assert_bad_input(bad, "edit.render", "caption_size", code=2)
    assert not (tmp_path / "b.mp4").exists()


def test_edit_flags_come_from_the_request_models():
    """No hand-written option repeats a field of the command's model, and the flags users had are kept."""
    import typer.main

    from animstudio.cli.edit import app

    flags: dict[str, set[str]] = {}
    for command in app.registered_commands:
        click = typer.main.get_command_from_info(command, pretty_exceptions_short=True, rich_markup_mode=None)
        flags[click.name] = {flag for p in click.params for flag in p.opts + p.secondary_opts}
        model = getattr(command.callback, "options_model", None)
        for param in click.params if model is not None else ():
            if param.param_type_name == "option" and not param.name.startswith("opt__"):
                assert param.name not in model.model_fields, (click.name, param.name)
    assert {"-o", "--output", "-p", "--preset", "-s", "--style", "--captions", "--subtitles", "--aspect",
            "--follow", "--json"} <= flags["render"]
    assert {"-o", "--output", "-f", "--format"} <= flags["export"]
    assert {"-o", "--output", "-d", "--duration", "-m", "--music", "-t", "--transition", "-p", "--preset", "-s",
            "--style", "--json"} <= flags["highlights"]


def test_the_presets_are_listed_once():
    from typing import get_args

    from animstudio.editing.commands import HighlightsRequest, RenderRequest
    from animstudio.editing.formats import RENDER_PRESETS, Preset, encoder_args

    assert list(RENDER_PRESETS) == list(get_args(Preset)) == ["draft", "medium", "high"]
    for model in (RenderRequest, HighlightsRequest):
        assert model.model_fields["preset"].annotation is Preset
    assert encoder_args(".mp4", "high", 24.0)[0][:6] == ["-c:v", "libx264", "-preset", "slow", "-crf", "18"]
    assert encoder_args(".webm", "draft", 24.0)[0][:4] == ["-c:v", "libvpx-vp9", "-crf", "36"]


def test_the_public_api_is_lazy_and_complete():
    from animstudio.editing.render import render
    from public_api import assert_lazy_api

    api = assert_lazy_api("animstudio.editing", heavy=("numpy", "opentimelineio"))
    assert api.render_video is render and api.Edit is Edit and api.RENDER_PRESETS["draft"].x264_preset == "veryfast"
