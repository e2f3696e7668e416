"""Shot detection, asserted exactly on real clips and on clips with known answers."""

from __future__ import annotations

import json

import pytest

from animstudio.analysis.scenes import detect_scenes
from conftest import ffmpeg, run_cli


def test_big_buck_bunny_cli_contract(shared_data):
    proc = run_cli("analyze", "scenes", str(shared_data / "video" / "big_buck_bunny_0_30.webm"), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["cuts"] == [283, 376, 551]  # nothing in the fade-in, nothing at the bird's exit near 498
    assert out["video"]["frame_count"] == 720
    assert [(s["start_frame"], s["end_frame"]) for s in out["shots"]] == [(0, 283), (283, 376), (376, 551),
                                                                        (551, 720)]
    assert out["shots"][1]["start_s"] == pytest.approx(283 / 24, abs=1e-3)
    assert set(out["shots"][0]) >= {"index", "start_frame", "end_frame", "start_s", "end_s"}
    fade = out["transitions"][0]
    assert fade["type"] == "fade_in" and fade["color"] == "black" and 8 <= fade["start_frame"] < fade["end_frame"] <= 50


@pytest.mark.parametrize("name", ["moviepy_example2_bbb_2s.mp4", "moviepy_example3_sintel_2s.mp4",
                                  "big_buck_bunny_432_433.webm"])
def test_single_shot_clips_have_no_cuts(shared_data, name):
    assert detect_scenes(shared_data / "video" / name).cuts == []


def test_camera_motion_clips_have_no_cuts(shared_data):
    for gif in sorted((shared_data / "camera_motion").glob("*model_01*.gif")):
        assert detect_scenes(gif).cuts == [], gif.name


def test_sample_clip_ground_truth_exactly(sample_features):
    feats, truth = sample_features
    result = detect_scenes(features=feats)
    assert result.cuts == truth["cuts"]
    assert result.flashes == truth["flashes"]
    assert [(t.type, t.start_frame, t.end_frame) for t in result.transitions] == \
        [(t["type"], t["start"], t["end"]) for t in truth["transitions"]]
    assert [s.start_frame for s in result.shots] == [s["start"] for s in truth["shots"]]


def _sample_clip_exactly(tmp_path, seed: int, seconds: int) -> None:
    from animstudio.media.sample import make_sample

    truth = make_sample(tmp_path / "s.mp4", seconds=seconds, seed=seed)
    result = detect_scenes(tmp_path / "s.mp4")
    assert result.cuts == truth.cuts and result.flashes == truth.flashes
    assert [(t.start_frame, t.end_frame) for t in result.transitions] == [(t.start, t.end) for t in truth.transitions]


@pytest.mark.parametrize("seed,seconds", [(1, 9), (5, 21)])
def test_other_sample_clips_exactly(tmp_path, seed, seconds):
    _sample_clip_exactly(tmp_path, seed, seconds)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10, 18))
@pytest.mark.parametrize("seconds", [8, 12, 30])
def test_many_sample_clips_exactly(tmp_path, seed, seconds):
    _sample_clip_exactly(tmp_path, seed, seconds)


def test_drawings_on_twos(tmp_path, sample_clip):
    clip, truth = sample_clip
    twos = tmp_path / "twos.mp4"
    # every drawing held for two frames, as limited animation does
    ffmpeg("-i", str(clip), "-vf", "select='not(mod(n,2))',setpts=N/12/TB,fps=24", "-an", "-c:v", "libx264",
           "-preset", "ultrafast", "-crf", "16", str(twos))
    result = detect_scenes(twos)
    assert result.cuts == [c + c % 2 for c in truth["cuts"]]


def test_captions_and_a_watermark_are_not_cuts(tmp_path, sample_clip):
    clip, truth = sample_clip
    captioned = tmp_path / "captioned.mp4"
    boxes = ",".join(f"drawbox=x=iw/5:y=ih-50:w=3*iw/5:h=36:color=white:t=fill:enable='between(t,{a},{b})'"
                     for a, b in ((1.4, 2.0), (2.0, 2.6), (8.0, 9.0), (10.3, 11.0)))
    ffmpeg("-i", str(clip), "-vf", boxes + ",drawbox=x=iw-70:y=10:w=60:h=24:color=red:t=fill", "-an", "-c:v",
           "libx264", "-preset", "ultrafast", str(captioned))
    assert detect_scenes(captioned).cuts == truth["cuts"]


def test_fade_out_and_in_through_black(tmp_path, sample_clip):
    clip, truth = sample_clip
    faded = tmp_path / "faded.mp4"
    cut = truth["cuts"][2]  # 187: fade the old shot out before it and the new one in after it
    fades = f"fade=t=out:s={cut - 12}:n=12:enable='lt(n,{cut})',fade=t=in:s={cut}:n=12:enable='gte(n,{cut})'"
    ffmpeg("-i", str(clip), "-vf", fades, "-an", "-c:v",
           "libx264", "-preset", "ultrafast", str(faded))
    result = detect_scenes(faded)
    kinds = [(t.type, t.color) for t in result.transitions]
    assert ("fade_out", "black") in kinds and ("fade_in", "black") in kinds
    fade_out = next(t for t in result.transitions if t.type == "fade_out")
    fade_in = next(t for t in result.transitions if t.type == "fade_in")
    assert abs(fade_out.start_frame - (cut - 12)) <= 1 and abs(fade_in.end_frame - (cut + 12)) <= 1
    assert cut not in result.cuts and [c for c in truth["cuts"] if c != cut] == result.cuts
    assert any(abs(s.start_frame - cut) <= 1 for s in result.shots)  # still a shot boundary


def test_pyscenedetect_detectors_run(sample_clip):
    clip, truth = sample_clip
    assert truth["cuts"] == [29, 77, 187, 240] and truth["flashes"] == [53]
    with_flash = sorted(truth["cuts"] + truth["flashes"])   # they find the hard cuts and call the flash a cut
    expected = {"adaptive": with_flash, "content": with_flash, "hash": with_flash,
                "histogram": sorted(with_flash + [119]),   # and the colours change at the dissolve's start
                "threshold": []}                            # it finds fades to black, and there are none
    found = {name: detect_scenes(clip, detector=name) for name in expected}
    assert {name: result.cuts for name, result in found.items()} == expected
    assert all(result.flashes == [] and result.transitions == [] for result in found.values())


def test_unknown_detector_and_bad_option(sample_clip):
    clip, _ = sample_clip
    proc = run_cli("analyze", "scenes", str(clip), "--detector", "nope")
    assert proc.returncode == 1 and "known: adaptive, animation" in proc.stderr
    proc = run_cli("analyze", "scenes", str(clip), "-O", "cut_blocks=7")
    assert proc.returncode == 1 and "cut_blocks" in proc.stderr and "Traceback" not in proc.stderr


def test_fast_decode_finds_the_same_cuts(shared_data, sample_clip):
    clip, truth = sample_clip
    for path, cuts in ((shared_data / "video" / "big_buck_bunny_0_30.webm", [283, 376, 551]),
                       (clip, truth["cuts"])):
        proc = run_cli("analyze", "scenes", str(path), "--fast", "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["cuts"] == cuts
