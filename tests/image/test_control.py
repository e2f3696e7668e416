"""ControlNet preprocessors on real pictures: edges, line art, scribble, segmentation, pose skeletons,
the frame of a shot and the control image fitted to the generation size."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from animstudio import plugins
from animstudio.errors import InvalidInputError, MissingDependencyError
from animstudio.image import control
from animstudio.image.control import (
    Canny,
    LineArt,
    Scribble,
    Segmentation,
    frame_from_shot,
    parse_shot_ref,
    region_palette,
    resize_control,
)
from animstudio.image.pose import (
    COLOURS,
    JOINTS,
    LIMB_SHADE,
    LIMBS,
    PosePreprocessor,
    draw_pose,
    pose_views,
    view_keypoints,
)

BBB = "video/big_buck_bunny_0_30.webm"      # hard cuts at frames 283, 376, 551 of 720 (data README)


def pose_from(keypoints: str) -> PosePreprocessor:
    return PosePreprocessor(keypoints=keypoints)


def idle_characters(shared_data: Path) -> list[Path]:
    found = sorted((shared_data / "characters" / "kenney_toon").glob("*/*_idle.png"))
    assert len(found) == 6
    return found


def test_every_preprocessor_is_registered_through_the_hook():
    if "canny" not in plugins.backends("control_preprocessor"):
        plugins.register_module(control, name="animstudio.image.control")
    found = plugins.backends("control_preprocessor")
    assert {"canny", "lineart", "scribble", "segmentation", "pose", "depth", "normal"} <= set(found)
    for cls in (Canny, LineArt, Scribble, Segmentation, PosePreprocessor, found["depth"], found["normal"]):
        for name, field in cls.Options.model_fields.items():
            text = field.description or ""
            assert text and text[0].islower() and not text.endswith("."), (cls.name, name, text)


def test_canny_draws_white_edges_on_the_border_of_a_rectangle():
    gray = np.zeros((48, 64), np.uint8)
    gray[10:30, 16:44] = 200                         # rows 10-29, columns 16-43
    out = np.asarray(Canny().process(Image.fromarray(gray).convert("RGB")))
    assert out.shape == (48, 64, 3) and set(np.unique(out)) == {0, 255}
    assert (out[:, :, 0] == out[:, :, 1]).all() and (out[:, :, 0] == out[:, :, 2]).all()
    edge = out[:, :, 0] == 255
    inside = np.zeros_like(edge)
    inside[10:30, 16:44] = True
    # the border: pixels with both inside and outside pixels among their 4 neighbours or themselves
    k = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8)
    grown, shrunk = cv2.dilate(inside.astype(np.uint8), k) > 0, cv2.erode(inside.astype(np.uint8), k) > 0
    assert not (edge & ~(grown & ~shrunk)).any()    # no edge off the border
    for row in range(11, 29):                        # each side is traced without a gap
        assert edge[row, 15:17].any() and edge[row, 43:45].any(), row
    for col in range(17, 43):
        assert edge[9:11, col].any() and edge[29:31, col].any(), col
    weak = gray // 10                                # a step of 20: below the default thresholds
    assert not (np.asarray(Canny().process(Image.fromarray(weak).convert("RGB"))) > 0).any()
    assert (np.asarray(Canny(low=20, high=50).process(Image.fromarray(weak).convert("RGB"))) > 0).any()


def test_lineart_draws_outlines_and_nothing_inside_flat_regions(shared_data):
    k = np.ones((5, 5), np.uint8)
    for path in idle_characters(shared_data):
        picture = Image.open(path)
        rgba = np.asarray(picture.convert("RGBA"))
        out = np.asarray(LineArt().process(picture))
        assert out.shape == (*rgba.shape[:2], 3) and set(np.unique(out)) <= {0, 255}
        black = out[:, :, 0] == 0
        colours = rgba[:, :, :3]
        spread = np.max([cv2.dilate(colours[:, :, c], k).astype(int) - cv2.erode(colours[:, :, c], k)
                         for c in range(3)], axis=0)
        flat = (spread <= 8) & (cv2.erode(rgba[:, :, 3], k) == 255)   # 2 px inside a flat colour on the character
        assert flat.sum() >= 200, path.name
        assert not black[flat].any(), f"{path.name}: lines inside flat colour"
        solid = rgba[:, :, 3] == 255
        ring = solid & (cv2.erode(solid.astype(np.uint8), np.ones((3, 3), np.uint8)) == 0)
        dark = ring & (cv2.cvtColor(colours, cv2.COLOR_RGB2GRAY) < 160)    # outline against the white paper
        near_line = cv2.dilate(black.astype(np.uint8), k) > 0
        assert near_line[dark].mean() >= 0.85, f"{path.name}: {near_line[dark].mean():.2f} of the outline drawn"


def test_lineart_draws_a_drawn_outline_once():
    picture = np.full((120, 160, 3), 255, np.uint8)
    cv2.circle(picture, (80, 60), 40, (230, 80, 60), thickness=-1)       # a flat red disc ...
    cv2.circle(picture, (80, 60), 40, (20, 20, 20), thickness=2)         # ... with a 2-3 px ink outline
    stroke = (picture == 20).all(axis=2)
    black = np.asarray(LineArt().process(Image.fromarray(picture)))[:, :, 0] == 0
    assert (black & stroke).sum() >= 0.95 * stroke.sum()
    around = cv2.dilate(stroke.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    assert not (black & ~around).any()          # no second line beside the ink


def test_scribble_is_thick_white_strokes_without_specks(shared_data):
    picture = Image.open(idle_characters(shared_data)[0])
    lines = np.asarray(LineArt().process(picture))[:, :, 0] == 0
    out = np.asarray(Scribble(thickness=3, min_share=0.002).process(picture))
    strokes = out[:, :, 0] == 255
    assert set(np.unique(out)) == {0, 255}
    assert strokes.sum() > 1.5 * lines.sum()
    count, _, stats, _ = cv2.connectedComponentsWithStats(strokes.astype(np.uint8), connectivity=8)
    assert stats[1:, cv2.CC_STAT_AREA].min() >= 0.002 * strokes.size


def test_segmentation_finds_connected_flat_colour_regions():
    picture = np.zeros((90, 120, 3), np.uint8)
    picture[:] = (40, 90, 200)
    picture[10:40, 10:50] = (220, 40, 40)
    picture[50:80, 60:110] = (60, 180, 70)
    out = np.asarray(Segmentation().process(Image.fromarray(picture)))
    colours = np.unique(out.reshape(-1, 3), axis=0)
    assert len(colours) == 3
    assert (out[0, 0] == region_palette(1)[0]).all()                   # the largest region takes colour 1
    assert len({tuple(out[20, 20]), tuple(out[60, 80]), tuple(out[0, 0])}) == 3
    picture[50:80, 60:110] = (220, 40, 40)                             # two apart areas of one colour
    again = np.asarray(Segmentation().process(Image.fromarray(picture)))
    assert len(np.unique(again.reshape(-1, 3), axis=0)) == 3
    assert tuple(again[20, 20]) != tuple(again[60, 80])
    assert (np.asarray(Segmentation().process(Image.fromarray(picture))) == again).all()


def test_segmentation_of_a_soft_shaded_character_keeps_its_parts(shared_data):
    picture = Image.open(idle_characters(shared_data)[-1])
    out = np.asarray(Segmentation().process(picture))
    regions = len(np.unique(out.reshape(-1, 3), axis=0))
    assert 4 <= regions <= 40
    assert (out[0, 0] == region_palette(1)[0]).all()                   # the paper around the character


def test_pose_limbs_and_joints_have_the_openpose_colours():
    width, height = 512, 768
    joints = view_keypoints("front", width, height)
    out = np.asarray(draw_pose({k: list(v) for k, v in joints.items()}, width, height))
    assert out.shape == (height, width, 3)
    assert COLOURS[0] == (255, 0, 0) and COLOURS[12] == (0, 0, 255)
    checked = 0
    for i, (a, b) in enumerate(LIMBS):
        (xa, ya), (xb, yb) = joints[JOINTS[a]], joints[JOINTS[b]]
        if np.hypot(xb - xa, yb - ya) < 20:          # face limbs: the joint circles cover them
            continue
        mid = out[round((ya + yb) / 2), round((xa + xb) / 2)]
        assert tuple(mid) == tuple(round(c * LIMB_SHADE) for c in COLOURS[i]), (JOINTS[a], JOINTS[b], mid)
        checked += 1
    assert checked == 15                             # all but the two eye-ear limbs
    shoulder, neck = joints["right_shoulder"], joints["neck"]
    assert out[round((shoulder[1] + neck[1]) / 2), round((shoulder[0] + neck[0]) / 2)].tolist() == [153, 0, 0]
    for i, name in enumerate(JOINTS):
        x, y = joints[name]
        assert tuple(out[round(y), round(x)]) == COLOURS[i], name
    assert out[5, 5].tolist() == [0, 0, 0]


def test_pose_views_front_side_back():
    views = pose_views(256, 384)
    assert list(views) == ["front", "side", "back"]
    assert all(v.size == (256, 384) for v in views.values())
    front, back = view_keypoints("front", 256, 384), view_keypoints("back", 256, 384)
    assert "nose" not in back and front["right_shoulder"][0] < 128 < back["right_shoulder"][0]
    nose = front["nose"]
    assert tuple(np.asarray(views["front"])[round(nose[1]), round(nose[0])]) == COLOURS[0]
    assert not (np.asarray(views["back"]) == COLOURS[0]).all(axis=2).any()     # no face from behind


def test_pose_preprocessor_reads_openpose_json(tmp_path):
    points = {"neck": (150, 60), "right_shoulder": (110, 62), "right_elbow": (100, 120)}
    flat = []
    for name in JOINTS:
        x, y = points.get(name, (0, 0))
        flat += [x, y, 0.9 if name in points else 0]
    doc = {"canvas_width": 300, "canvas_height": 200, "people": [{"pose_keypoints_2d": flat}]}
    path = tmp_path / "pose.json"
    path.write_text(json.dumps(doc))
    out = np.asarray(PosePreprocessor(keypoints=str(path)).process(Image.new("RGB", (600, 400), "white")))
    assert out.shape == (400, 600, 3)
    assert tuple(out[122, 260]) == tuple(round(c * LIMB_SHADE) for c in COLOURS[0])   # neck-right shoulder, x2
    assert tuple(out[120, 300]) == COLOURS[1]                                         # the neck joint
    inline = PosePreprocessor(keypoints=json.dumps(doc)).process(Image.new("RGB", (600, 400)))
    assert (np.asarray(inline) == out).all()
    body25 = flat[:24] + [0, 0, 0] + flat[24:] + [0] * 18                             # MidHip and the feet
    same = draw_pose({"canvas_width": 300, "canvas_height": 200, "people": [{"pose_keypoints_2d": body25}]}, 600, 400)
    assert (np.asarray(same) == out).all()


def test_pose_from_a_picture_needs_mediapipe(shared_data):
    picture = Image.open(idle_characters(shared_data)[0])
    try:
        import mediapipe  # noqa: F401
    except ImportError:
        with pytest.raises(MissingDependencyError, match=r"animstudio\[pose\]"):
            PosePreprocessor().process(picture)
    else:
        pytest.skip("mediapipe is installed; its estimate is checked where it is not")


def test_frame_from_shot_takes_the_middle_frame_of_the_shot(shared_data):
    from animstudio.media import iter_frames

    video = shared_data / BBB
    frame = frame_from_shot(*parse_shot_ref(f"{video}:3"))       # shot 3: frames 376-550
    assert frame.size == (1280, 720)
    expected = next(f.image for f in iter_frames(video) if f.index == 376 + (551 - 376) // 2)
    assert (np.asarray(frame) == expected).all()
    with pytest.raises(InvalidInputError, match="has 4 shots; pass a shot from 1 to 4, got 9"):
        frame_from_shot(video, 9)


def test_frame_from_shot_on_every_preprocessor(shared_data):
    frame = frame_from_shot(shared_data / BBB, 1)
    for cls in (Canny, LineArt, Scribble, Segmentation):
        out = cls().process(frame)
        assert out.mode == "RGB" and out.size == frame.size, cls.name


@pytest.mark.parametrize("check, given, needle", [
    (pose_from, '{"people": [{"pose_keypoints_2d": [1, 2, 3]}]}', "must hold 54 numbers"),
    (pose_from, '{"neck": [1, 2], "tail": [3, 4]}', "unknown joint 'tail'"),
    (pose_from, '{"neck": "up"}', "must be [x, y]"),
    (pose_from, "{not json", "not valid JSON"),
    (pose_from, "missing/pose.json", "no keypoints file"),
    (pose_from, '{"people": []}', "hold no joint"),
    (parse_shot_ref, "clip.mp4", "not a shot reference"),
    (parse_shot_ref, "clip.mp4:two", "not a shot reference"),
    (parse_shot_ref, "clip.mp4:0", "shots count from 1"),
    (parse_shot_ref, "nowhere/clip.mp4:2", "no video at nowhere/clip.mp4"),
])
def test_bad_keypoints_and_shot_references_get_one_line_errors(check, given, needle):
    with pytest.raises(InvalidInputError) as err:
        check(given)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_resize_control_crops_the_centre_then_resizes():
    stripes = np.zeros((100, 300, 3), np.uint8)
    stripes[:, :100] = (255, 0, 0)
    stripes[:, 100:200] = (0, 0, 255)
    stripes[:, 200:] = (0, 255, 0)
    picture = Image.fromarray(stripes)
    out, note = resize_control(picture, 64, 64)
    assert out.size == (64, 64) and (np.asarray(out) == (0, 0, 255)).all()
    assert note == "control image 300x100 cut to its centre 100x100 and resized to 64x64 to match the generation"
    same, none = resize_control(picture, 300, 100)
    assert same is picture and none is None
    _, scaled = resize_control(picture, 600, 200)
    assert scaled == "control image 300x100 resized to 600x200 to match the generation"
    with pytest.raises(InvalidInputError, match="positive"):
        resize_control(picture, 0, 64)


def test_bad_options_are_refused_in_one_line():
    with pytest.raises(InvalidInputError, match="low"):
        Canny(low=300, high=200)
    with pytest.raises(InvalidInputError, match="bogus"):
        LineArt(bogus=1)
