"""`animstudio edit` as a user runs it: render, export, check, highlights, and what bad input gets."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import opentimelineio as otio
import pytest
from edit_media import cut_timeline

from animstudio.editing.schema import Output
from animstudio.editing.timeline import Edit
from animstudio.media import probe
from conftest import run_cli


@pytest.fixture
def timeline(sample_clip, tmp_path):
    return cut_timeline(sample_clip[0], tmp_path)


def test_render_export_and_check(timeline, tmp_path):
    out = tmp_path / "cut.mp4"
    proc = run_cli("edit", "render", str(timeline), "-o", str(out), "--preset", "draft", "--style", "warm", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["frames"] == 70 and probe(out).frame_count == 70
    assert report["sidecars"] == [str(out.with_suffix(".srt"))]
    for fmt, name in (("edl", "cut.edl"), ("fcp7xml", "cut.xml"), ("otio", "copy.otio")):
        proc = run_cli("edit", "export", str(timeline), "--format", fmt, "-o", str(tmp_path / name))
        assert proc.returncode == 0, proc.stderr
        assert otio.adapters.read_from_file(str(tmp_path / name)).duration().to_frames() == 70
    proc = run_cli("edit", "check", str(timeline), "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["frames"] == 70


def test_highlights(shared_data, tmp_path):
    out = tmp_path / "reel.mp4"
    proc = run_cli("edit", "highlights", str(shared_data / "video" / "big_buck_bunny_0_30.webm"), "-d", "8",
                   "-o", str(out), "--preset", "draft", "--json")
    assert proc.returncode == 0, proc.stderr
    info = probe(out)
    assert info.frame_count == 8 * 24 and info.audio
    reel = Edit.load(out.with_suffix(".otio"))
    assert len(reel.clips) >= 3 and reel.duration_s == pytest.approx(8.0, abs=1 / 24)
    starts = [c.source_range.start_time.to_seconds() for c in reel.clips]
    assert starts == sorted(starts)   # story order


def _broken(timeline, tmp_path, change) -> str:
    tl = otio.adapters.read_from_file(str(timeline))
    change(tl)
    path = tmp_path / "broken.otio"
    otio.adapters.write_to_file(tl, str(path))
    return str(path)


def _clip(tl, i=0):
    return list(tl.video_tracks()[0].find_clips(shallow_search=True))[i]


def test_bad_timelines_fail_before_rendering_and_leave_nothing(timeline, tmp_path):
    def missing(tl):
        _clip(tl, 1).media_reference.target_url = str(tmp_path / "gone.mp4")

    def past_end(tl):
        _clip(tl).source_range = otio.opentime.TimeRange(otio.opentime.RationalTime(250, 24),
                                                         otio.opentime.RationalTime(96, 24))

    def zero_speed(tl):
        _clip(tl).metadata["animstudio"] = {"speed": 0}

    def bad_lut(tl):
        (tmp_path / "bad.cube").write_text("LUT_3D_SIZE 2\n1 2\n")
        tl.metadata["animstudio"]["lut"] = str(tmp_path / "bad.cube")

    def empty(tl):
        tl.tracks[:] = [otio.schema.Track(name="main")]

    cases = {missing: "gone.mp4, which does not exist", past_end: "asks for 10.42-14.42 s",
             zero_speed: "speed", bad_lut: "bad.cube", empty: "no clips"}
    for change, message in cases.items():
        out = tmp_path / "never.mp4"
        proc = run_cli("edit", "render", _broken(timeline, tmp_path, change), "-o", str(out), "--preset", "draft")
        assert proc.returncode == 1, (change.__name__, proc.stderr)
        assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert not out.exists() and not list(tmp_path.glob(".render-*")), change.__name__
    assert "clip" in run_cli("edit", "render", _broken(timeline, tmp_path, missing), "-o",
                             str(tmp_path / "x.mp4")).stderr


def test_wrong_arguments(timeline, tmp_path):
    proc = run_cli("edit", "render", str(timeline), "-o", str(tmp_path / "out.avi"))
    assert proc.returncode == 1 and ".mp4 or .webm" in proc.stderr
    proc = run_cli("edit", "render", str(timeline), "-o", str(tmp_path / "o.mp4"), "--preset", "ultra")
    assert proc.returncode == 2 and "'draft', 'medium', 'high'" in proc.stderr
    proc = run_cli("edit", "render", str(tmp_path / "none.otio"), "-o", str(tmp_path / "o.mp4"))
    assert proc.returncode == 1 and "does not exist" in proc.stderr
    proc = run_cli("edit", "export", str(timeline), "-o", str(tmp_path / "cut.doc"))
    assert proc.returncode == 1 and "--format" in proc.stderr


def test_ctrl_c_stops_ffmpeg_and_leaves_no_partial_file(sample_clip, tmp_path):
    clip, _ = sample_clip
    e = Edit(Output(width=1280, height=720, fps=24))
    for _ in range(4):
        e.cut(clip, 0.0, 12.0)
    path = e.save(tmp_path / "long.otio")
    out = tmp_path / "long.mp4"
    # a shell that starts jobs in the background (nohup, `&`) passes Ctrl-C on as ignored: give the
    # render the default handling a terminal would
    proc = subprocess.Popen([sys.executable, "-m", "animstudio", "edit", "render", str(path), "-o", str(out),
                             "--preset", "high"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".render-*/segment-*")):
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert not out.exists() and not list(tmp_path.glob(".render-*")) and not list(tmp_path.glob("*.tmp*"))
    ps = subprocess.run(["pgrep", "-f", str(out)], capture_output=True, text=True)
    assert ps.stdout.strip() == ""   # no ffmpeg left behind


def test_render_burns_a_subtitle_file(timeline, tmp_path):
    srt = tmp_path / "lines.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\nFrom a file\n", encoding="utf-8")
    out = tmp_path / "subbed.mp4"
    proc = run_cli("edit", "render", str(timeline), "-o", str(out), "--preset", "draft", "--subtitles", str(srt))
    assert proc.returncode == 0, proc.stderr
    from animstudio.media.subtitles import read_subtitles

    assert [c.text for c in read_subtitles(out.with_suffix(".srt"))] == ["Hello there", "From a file"]
