"""Camera motion: the labelled generator clips and the sample clip's known moves."""

from __future__ import annotations

import math

from animstudio.analysis.camera import camera_motion
from animstudio.analysis.features import extract_features
from animstudio.analysis.scenes import detect_scenes


def test_labelled_camera_motion_clips(shared_data):
    gifs = sorted((shared_data / "camera_motion").glob("*__model_01_*.gif"))
    assert len(gifs) == 8
    right = 0
    for gif in gifs:
        feats = extract_features(gif)
        result = detect_scenes(features=feats)
        label = camera_motion(feats, result.shots)[0].label
        right += label == gif.name.split("__")[0]
    assert right >= 7


def test_sample_clip_motions(sample_features):
    feats, truth = sample_features
    result = detect_scenes(features=feats)
    moves = camera_motion(feats, result.shots, result.transitions)
    assert [m.label for m in moves] == [s["camera"] for s in truth["shots"]]
    pan = moves[2]
    # the background moves 6 px a frame at 640 wide: 24 fps -> 0.225 frame widths a second, leftwards
    expected = truth["shots"][2]["content_dx_px_per_frame"] * truth["fps"] / truth["width"]
    assert abs(pan.pan_per_s - expected) < 0.02
    zoom = truth["shots"][3]
    seconds = (zoom["end"] - 1 - zoom["start"]) / truth["fps"]
    expected_zoom = math.log(zoom["scale_end"] / zoom["scale_start"]) / seconds
    assert abs(moves[3].zoom_per_s - expected_zoom) < 0.25 * expected_zoom
