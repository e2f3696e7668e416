"""Pose skeletons for the OpenPose ControlNet: drawn from keypoints the user gives (OpenPose JSON or
named joints), estimated from a live-action picture (mediapipe, optional), or the standing figure of
a character sheet seen from the front, the side and the back.

    draw_pose({"people": [{"pose_keypoints_2d": [x0, y0, c0, ...]}]}, 1024, 1024)   # 18-point COCO
    draw_pose({"neck": [0.5, 0.2], "right_shoulder": [0.42, 0.22]}, 512, 768)     # fractions of the size
    pose_views(512, 768)["side"]                                                  # a character-sheet view

Coordinates are pixels of the picture, pixels of ``canvas_width`` x ``canvas_height`` when the JSON
gives them (the OpenPose editors do), or fractions of the picture when every one lies within 0-1.
A joint whose confidence is 0 is missing (the OpenPose convention) and is not drawn.
"""

from __future__ import annotations

import colorsys
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pydantic import Field

from animstudio.errors import InvalidInputError, MissingDependencyError
from animstudio.image.base import ControlPreprocessor

JOINTS = ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
          "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
          "right_eye", "left_eye", "right_ear", "left_ear")
# the OpenPose limbs between COCO joints, in drawing order; limb i takes colour i
LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
         (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
# OpenPose's 18 colours: the hue wheel in 20-degree steps from red; joint i is drawn in colour i
COLOURS = tuple(tuple(round(255 * c) for c in colorsys.hsv_to_rgb(i / 18, 1.0, 1.0)) for i in range(18))
LIMB_SHADE = 0.6                       # limbs are drawn at 60% of their colour, joints at full colour
BODY_25_TO_COCO = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)
MEDIAPIPE_TO_COCO = (0, None, 12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7)   # neck: mid-shoulders

Point = tuple[float, float]
Person = list[Point | None]            # 18 joints in COCO order, None where missing

# a standing figure in figure units (height 1, x from the centre line), front view: the figure's
# right side is on the viewer's left
_FRONT: dict[str, Point] = {
    "nose": (0.0, 0.075), "neck": (0.0, 0.17), "right_eye": (-0.025, 0.055), "left_eye": (0.025, 0.055),
    "right_ear": (-0.05, 0.065), "left_ear": (0.05, 0.065),
    "right_shoulder": (-0.11, 0.18), "right_elbow": (-0.14, 0.33), "right_wrist": (-0.155, 0.47),
    "left_shoulder": (0.11, 0.18), "left_elbow": (0.14, 0.33), "left_wrist": (0.155, 0.47),
    "right_hip": (-0.065, 0.5), "right_knee": (-0.07, 0.72), "right_ankle": (-0.075, 0.95),
    "left_hip": (0.065, 0.5), "left_knee": (0.07, 0.72), "left_ankle": (0.075, 0.95),
}
# seen from the back the sides swap and the face is hidden
_BACK: dict[str, Point] = {k: (-x, y) for k, (x, y) in _FRONT.items() if k not in ("nose", "right_eye", "left_eye")}
# facing the viewer's right: the right side is near, the left eye and ear hidden, the far limbs just behind
_SIDE: dict[str, Point] = {
    "nose": (0.06, 0.075), "neck": (0.0, 0.17), "right_eye": (0.04, 0.055), "right_ear": (-0.01, 0.065),
    "right_shoulder": (0.0, 0.18), "right_elbow": (0.015, 0.33), "right_wrist": (0.03, 0.47),
    "left_shoulder": (-0.02, 0.18), "left_elbow": (-0.01, 0.33), "left_wrist": (0.005, 0.47),
    "right_hip": (0.01, 0.5), "right_knee": (0.025, 0.72), "right_ankle": (0.01, 0.95),
    "left_hip": (-0.01, 0.5), "left_knee": (0.0, 0.72), "left_ankle": (-0.015, 0.95),
}
VIEWS: dict[str, dict[str, Point]] = {"front": _FRONT, "side": _SIDE, "back": _BACK}


@dataclass(frozen=True)
class Keypoints:
    """Checked keypoints in their source's coordinates: pixels of ``canvas`` when it is known."""

    people: list[Person]
    canvas: tuple[float, float] | None = None


KeypointSource = Keypoints | str | Path | dict[str, Any] | list[Any]


def load_keypoints(source: KeypointSource) -> Keypoints:
    """Keypoints from a JSON file, JSON text or the parsed JSON (OpenPose or named joints), checked."""
    if isinstance(source, Keypoints):
        return source
    data: Any = source
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith(("{", "["))):
        path = Path(source).expanduser()
        if not path.is_file():
            raise InvalidInputError(f"no keypoints file at {path}; give an OpenPose JSON file or the JSON itself")
        data = path.read_text(encoding="utf-8", errors="replace")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"keypoints are not valid JSON ({exc.msg} at line {exc.lineno}); give "
                                    f'OpenPose JSON ({{"people": [{{"pose_keypoints_2d": [...]}}]}}) or named '
                                    f"joints") from None
    canvas = None
    if isinstance(data, dict) and "people" in data:
        raw = data["people"]
        if not isinstance(raw, list):
            raise InvalidInputError("keypoints: 'people' must be a list of people; give OpenPose JSON")
        people = [_openpose_person(p, i) for i, p in enumerate(raw, 1)]
        if data.get("canvas_width") and data.get("canvas_height"):
            canvas = (float(data["canvas_width"]), float(data["canvas_height"]))
    elif isinstance(data, dict):
        people = [_named_person(data, 1)]
    elif isinstance(data, list):
        people = [_named_person(p, i) for i, p in enumerate(data, 1)]
    else:
        raise InvalidInputError("keypoints must be OpenPose JSON or a dict of named joints")
    if not any(j is not None for person in people for j in person):
        raise InvalidInputError("the keypoints hold no joint; give at least one person with joints")
    return Keypoints(people, canvas)


def _openpose_person(person: Any, number: int) -> Person:
    values = person.get("pose_keypoints_2d") if isinstance(person, dict) else None
    if not isinstance(values, list) or len(values) not in (54, 75) \
            or not all(isinstance(v, int | float) for v in values):
        count = len(values) if isinstance(values, list) else 0
        raise InvalidInputError(f"person {number}: pose_keypoints_2d must hold 54 numbers (x, y, confidence for "
                                f"each of the 18 COCO joints) or 75 (BODY_25), got {count}")
    triples = [values[i:i + 3] for i in range(0, len(values), 3)]
    if len(triples) == 25:
        triples = [triples[i] for i in BODY_25_TO_COCO]
    return [(float(x), float(y)) if c > 0 else None for x, y, c in triples]


def _named_person(joints: Any, number: int) -> Person:
    if not isinstance(joints, dict):
        raise InvalidInputError(f"person {number}: give named joints as {{\"neck\": [x, y], ...}}")
    unknown = sorted(set(joints) - set(JOINTS))
    if unknown:
        raise InvalidInputError(f"unknown joint {unknown[0]!r}; joints: {', '.join(JOINTS)}")
    person: Person = [None] * len(JOINTS)
    for name, xy in joints.items():
        if xy is None:
            continue
        if not (isinstance(xy, list | tuple) and len(xy) in (2, 3) and all(isinstance(v, int | float) for v in xy)):
            raise InvalidInputError(f"joint {name!r} must be [x, y] (or [x, y, confidence]), got {xy!r}")
        if len(xy) == 2 or xy[2] > 0:
            person[JOINTS.index(name)] = (float(xy[0]), float(xy[1]))
    return person


def people_on(keypoints: Keypoints, width: int, height: int) -> list[Person]:
    """The people of checked keypoints in pixels of a width x height picture."""
    points = [p for person in keypoints.people for p in person if p is not None]
    if keypoints.canvas:
        sx, sy = width / keypoints.canvas[0], height / keypoints.canvas[1]
    elif all(0 <= v <= 1 for p in points for v in p):
        sx, sy = float(width), float(height)
    else:
        sx = sy = 1.0
    return [[(p[0] * sx, p[1] * sy) if p is not None else None for p in person] for person in keypoints.people]


def draw_pose(keypoints: KeypointSource, width: int, height: int) -> Image.Image:
    """The OpenPose skeleton of ``keypoints`` (anything ``load_keypoints`` reads) on a black width x
    height picture: limbs in OpenPose's colours, a circle on each joint."""
    import cv2

    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise InvalidInputError(f"the pose picture needs a positive width and height, got {width}x{height}")
    people = people_on(load_keypoints(keypoints), width, height)
    canvas = np.zeros((height, width, 3), np.uint8)
    scale = max(1, round(min(width, height) / 512))    # OpenPose's strokes are sized for 512 pixels
    stick, radius = 4 * scale, 4 * scale
    for person in people:
        for i, (a, b) in enumerate(LIMBS):
            pa, pb = person[a], person[b]
            if pa is None or pb is None:
                continue
            (xa, ya), (xb, yb) = pa, pb
            length = float(np.hypot(xb - xa, yb - ya))
            angle = float(np.degrees(np.arctan2(yb - ya, xb - xa)))
            centre = (round((xa + xb) / 2), round((ya + yb) / 2))
            polygon = cv2.ellipse2Poly(centre, (round(length / 2), stick), round(angle), 0, 360, 1)
            cv2.fillConvexPoly(canvas, polygon, [round(c * LIMB_SHADE) for c in COLOURS[i]])
        for i, point in enumerate(person):
            if point is not None:
                cv2.circle(canvas, (round(point[0]), round(point[1])), radius, COLOURS[i], thickness=-1)
    return Image.fromarray(canvas)


def view_keypoints(view: str, width: int, height: int) -> dict[str, Point]:
    """The named joints of a standing figure seen from ``view`` (front, side, back), in pixels of a
    width x height picture: the figure fills 90% of the height, centred."""
    if view not in VIEWS:
        raise InvalidInputError(f"unknown view {view!r}; views: {', '.join(VIEWS)}")
    size = 0.9 * min(height, width * 2)        # a standing figure is about half as wide as tall
    top = (height - size) / 2
    return {name: (width / 2 + x * size, top + y * size) for name, (x, y) in VIEWS[view].items()}


def pose_views(width: int = 512, height: int = 768) -> dict[str, Image.Image]:
    """Front, side and back skeletons of one standing figure, for a character sheet."""
    return {view: draw_pose({k: list(v) for k, v in view_keypoints(view, width, height).items()}, width, height)
            for view in VIEWS}


def estimate_pose(image: Image.Image) -> Keypoints:
    """The pose of the person in a live-action picture, in its pixels (mediapipe; one person, or none)."""
    try:
        import mediapipe as mp
    except ImportError:
        raise MissingDependencyError.for_extra("mediapipe", "pose", "pose estimation from a picture") from None
    if not hasattr(getattr(mp, "solutions", None), "pose"):
        raise MissingDependencyError(f"mediapipe {getattr(mp, '__version__', '')} has no pose solution "
                                     f"(mediapipe.solutions.pose); install one that has: pip install "
                                     f"'animstudio[pose]'")
    rgb = np.asarray(image.convert("RGB"))
    h, w = rgb.shape[:2]
    with mp.solutions.pose.Pose(static_image_mode=True) as estimator:
        found = estimator.process(rgb).pose_landmarks
    if found is None:
        return Keypoints([], (w, h))
    marks = [(lm.x * w, lm.y * h) if lm.visibility >= 0.5 else None for lm in found.landmark]
    person: Person = [marks[i] if i is not None else None for i in MEDIAPIPE_TO_COCO]
    if marks[11] is not None and marks[12] is not None:
        person[1] = ((marks[11][0] + marks[12][0]) / 2, (marks[11][1] + marks[12][1]) / 2)
    return Keypoints([person], (w, h))


class PosePreprocessor(ControlPreprocessor):
    name = "pose"
    description = "OpenPose skeleton from given keypoints, or estimated from a live-action picture (mediapipe)"

    class Options(ControlPreprocessor.Options):
        keypoints: str | None = Field(None, description="the pose to draw: OpenPose JSON (18-point COCO or BODY_25) "
                                                      "or named joints, as a file path or the JSON itself; "
                                                      "without it the pose is estimated from the picture "
                                                      "(needs mediapipe)")

    def __init__(self, options: Any = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        self._keypoints = load_keypoints(self.options.keypoints) if self.options.keypoints else None

    def process(self, image: Image.Image) -> Image.Image:
        if self._keypoints is not None:
            return draw_pose(self._keypoints, *image.size)
        found = estimate_pose(image)
        if not any(j is not None for person in found.people for j in person):
            raise InvalidInputError("no person found in the picture; give the pose as keypoints (OpenPose JSON "
                                    "or named joints)")
        return draw_pose(found, *image.size)
