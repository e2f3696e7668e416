"""ControlNet preprocessors: a reference picture becomes the control image one kind of ControlNet reads.

    edges = get_backend("control_preprocessor", "canny")(low=100, high=200).process(picture)
    lines = LineArt().process(Image.open("frame.png"))        # black outlines on white
    frame = frame_from_shot(*parse_shot_ref("clip.mp4:3"))     # middle frame of the 3rd shot
    control, note = resize_control(lines, 1024, 768)           # note: how it was cropped and resized

Registered: ``canny``, ``lineart``, ``scribble``, ``segmentation``, ``pose`` (in ``pose.py``), and
``depth`` and ``normal`` (in ``depth.py``, from a depth model the user adds to the warehouse).
A picture with transparency is laid on white first (a character cut out on a clear background).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pydantic import Field, model_validator

from animstudio.errors import InvalidInputError
from animstudio.hookspecs import hookimpl
from animstudio.image.base import ControlPreprocessor
from animstudio.image.depth import Depth, Normal
from animstudio.image.pose import PosePreprocessor


def rgb_array(image: Image.Image) -> np.ndarray:
    """(H, W, 3) uint8 pixels of ``image``; transparent parts laid on white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, "white")
        paper.alpha_composite(rgba)
        image = paper
    return np.asarray(image.convert("RGB"))


def _picture(mask: np.ndarray, ink: int) -> Image.Image:
    """An RGB picture of ``mask``: ``ink`` (0 or 255) where it is set, the other one elsewhere."""
    gray = np.where(mask, ink, 255 - ink).astype(np.uint8)
    return Image.fromarray(np.repeat(gray[:, :, None], 3, axis=2))


def _drop_small(mask: np.ndarray, min_pixels: int) -> np.ndarray:
    """``mask`` without the connected parts (8-neighbours) of fewer than ``min_pixels`` pixels."""
    import cv2

    if min_pixels <= 1 or not mask.any():
        return mask
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_pixels
    keep[0] = False
    return keep[labels]


class Canny(ControlPreprocessor):
    name = "canny"
    description = "OpenCV Canny edges, white on black (the SD ControlNet canny input)"

    class Options(ControlPreprocessor.Options):
        low: int = Field(100, ge=1, le=1000, description="weaker edges are kept only where they touch a strong one")
        high: int = Field(200, ge=1, le=1000, description="edges at least this strong are always kept")

        @model_validator(mode="after")
        def _order(self) -> Canny.Options:
            if self.low > self.high:
                raise ValueError(f"low ({self.low}) must not be above high ({self.high})")
            return self

    def process(self, image: Image.Image) -> Image.Image:
        import cv2

        gray = cv2.cvtColor(rgb_array(image), cv2.COLOR_RGB2GRAY)
        return _picture(cv2.Canny(gray, self.options.low, self.options.high) > 0, 255)


class LineArt(ControlPreprocessor):
    name = "lineart"
    description = "line art of an animation frame: its drawn outlines and colour boundaries, black on white"

    class Options(ControlPreprocessor.Options):
        line_width: int = Field(3, ge=1, le=15, description="the widest drawn line, pixels: darker strokes up to "
                                                             "this wide become lines")
        darkness: int = Field(30, ge=1, le=255, description="how much darker than both sides (0-255 luminance) "
                                                            "a stroke must be")
        boundary: int = Field(80, ge=1, le=1000, description="colour boundaries at least this strong (Canny "
                                                             "strength on Lab colour) become lines")
        min_pixels: int = Field(4, ge=1, le=10000, description="smaller specks are dropped, pixels")

    def process(self, image: Image.Image) -> Image.Image:
        return _picture(line_mask(rgb_array(image), self.options), 0)


def line_mask(rgb: np.ndarray, options: LineArt.Options) -> np.ndarray:
    """Where ``rgb`` has lines: dark strokes up to ``line_width`` wide (a black top-hat of the
    luminance: a stroke is darker than both its sides, so a step between two flat colours is not
    one) and, away from those strokes, one-pixel boundaries between colours (Canny on Lab colour,
    which keeps only the strongest pixel across a boundary). A flat region has neither, so cel
    shading draws lines at its edges, never inside."""
    import cv2

    size = 2 * (options.line_width // 2) + 3          # closing fills dark strokes narrower than this
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    strokes = cv2.morphologyEx(luma, cv2.MORPH_BLACKHAT, kernel) >= options.darkness
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    boundaries = cv2.Canny(lab, options.boundary // 2, options.boundary, L2gradient=True) > 0
    near = cv2.dilate(strokes.astype(np.uint8), kernel) > 0   # a stroke's own two sides are not more lines
    return _drop_small(strokes | (boundaries & ~near), options.min_pixels)


class Scribble(ControlPreprocessor):
    name = "scribble"
    description = "thick simplified strokes from the picture's line art, white on black"

    class Options(LineArt.Options):
        thickness: int = Field(5, ge=1, le=64, description="stroke width, pixels")
        min_share: float = Field(0.001, ge=0, le=0.5, description="strokes covering less of the picture than "
                                                                  "this share are dropped")

    def process(self, image: Image.Image) -> Image.Image:
        import cv2

        lines = line_mask(rgb_array(image), self.options)
        t = self.options.thickness
        thick = cv2.dilate(lines.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (t, t))) > 0
        return _picture(_drop_small(thick, round(self.options.min_share * thick.size)), 255)


class Segmentation(ControlPreprocessor):
    name = "segmentation"
    description = "flat-colour regions (colours grouped in Lab, then connected areas), each in its own colour"

    class Options(ControlPreprocessor.Options):
        colors: int = Field(12, ge=2, le=64, description="most colours the picture is reduced to before "
                                                         "regions are found")
        tolerance: float = Field(12.0, ge=0, le=100, description="colours closer than this (CIE76 delta E) "
                                                                 "count as one")
        min_share: float = Field(0.0005, ge=0, le=0.5, description="regions covering less of the picture than "
                                                                   "this share join their neighbours")

    def process(self, image: Image.Image) -> Image.Image:
        regions, count = segment_regions(rgb_array(image), self.options)
        return Image.fromarray(region_palette(count)[regions])


def segment_regions(rgb: np.ndarray, options: Segmentation.Options) -> tuple[np.ndarray, int]:
    """(H, W) region numbers from 0 (largest first) and how many regions ``rgb`` has: its colours
    grouped by k-means in Lab (fixed seed) with groups closer than ``tolerance`` merged, then cut into
    connected areas; areas under ``min_share`` of the picture go to the nearest region around them."""
    import cv2
    from scipy import ndimage

    lab = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2LAB).reshape(-1, 3)
    sample = lab[np.random.default_rng(0).permutation(len(lab))[:20000]]    # pixels: big areas weigh more
    k = min(options.colors, len(np.unique(sample, axis=0)))
    cv2.setRNGSeed(0)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.1)
    _, _, centres = cv2.kmeans(sample, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
    group = np.arange(k)
    for i in range(k):          # near colours join the group of the first of them
        for j in range(i):
            if np.linalg.norm(centres[i] - centres[j]) < options.tolerance:
                group[group == group[i]] = group[j]
                break
    nearest = np.concatenate([np.argmin((centres ** 2).sum(1) - 2 * part @ centres.T, axis=1)
                              for part in np.array_split(lab, -(-len(lab) // 100000))])
    colour = group[nearest].reshape(rgb.shape[:2])
    regions = np.zeros(colour.shape, np.int64)
    found = 0
    for value in np.unique(colour):
        labels, n = ndimage.label(colour == value, structure=np.ones((3, 3)))
        regions[labels > 0] = labels[labels > 0] + found
        found += n
    areas = np.bincount(regions.ravel())
    small = areas[regions] < max(1.0, options.min_share * regions.size)
    if small.all():
        small[:] = False
    if small.any():
        _, (rows, cols) = ndimage.distance_transform_edt(small, return_indices=True)
        regions = regions[rows, cols]
    numbers, inverse, counts = np.unique(regions.ravel(), return_inverse=True, return_counts=True)
    order = np.argsort(-counts, kind="stable")          # largest first; ties by first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse].reshape(regions.shape), len(numbers)


def region_palette(count: int) -> np.ndarray:
    """(count, 3) uint8 colours, distinct and the same for every picture: hues by the golden ratio,
    with saturation and brightness stepping so that neighbours in the list differ."""
    import colorsys

    colours: list[tuple[int, int, int]] = []
    i = 0
    while len(colours) < count:
        rgb = colorsys.hsv_to_rgb((i * 0.618033988749895) % 1, (0.55, 0.8, 1.0)[i % 3], (1.0, 0.75, 0.9, 0.6)[i % 4])
        colour = (round(rgb[0] * 255), round(rgb[1] * 255), round(rgb[2] * 255))
        if colour not in colours and colour != (0, 0, 0):
            colours.append(colour)
        i += 1
    return np.array(colours, np.uint8).reshape(-1, 3)


def resize_control(image: Image.Image, width: int, height: int) -> tuple[Image.Image, str | None]:
    """``image`` at width x height for a generation of that size, and a note when it had to change:
    cut to the generation's shape around its centre first (nothing is stretched), then resized."""
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise InvalidInputError(f"the generation size must be positive pixels, got {width}x{height}")
    w, h = image.size
    if (w, h) == (width, height):
        return image, None
    crop_w, crop_h = (round(h * width / height), h) if w * height > h * width else (w, round(w * height / width))
    crop_w, crop_h = max(1, min(w, crop_w)), max(1, min(h, crop_h))
    left, top = (w - crop_w) // 2, (h - crop_h) // 2
    cut = image.crop((left, top, left + crop_w, top + crop_h)) if (crop_w, crop_h) != (w, h) else image
    out = cut.resize((width, height), Image.Resampling.LANCZOS)
    cropped = f"cut to its centre {crop_w}x{crop_h} and " if cut is not image else ""
    return out, f"control image {w}x{h} {cropped}resized to {width}x{height} to match the generation"


def parse_shot_ref(ref: str) -> tuple[Path, int]:
    """``"clip.mp4:3"`` -> (the video, 3): shots are counted from 1, as a shot list shows them."""
    video, sep, number = str(ref).rpartition(":")
    if not sep or not video or not number.strip().lstrip("-").isdigit():
        raise InvalidInputError(f"{ref!r} is not a shot reference; give VIDEO:SHOT such as clip.mp4:3 "
                                f"(shots count from 1)")
    shot = int(number)
    if shot < 1:
        raise InvalidInputError(f"shot {shot} in {ref!r} does not exist; shots count from 1 (clip.mp4:1 is the first)")
    path = Path(video).expanduser()
    if not path.is_file():
        raise InvalidInputError(f"no video at {path}; give an existing video file, e.g. clip.mp4:{shot}")
    return path, shot


def frame_from_shot(video: str | os.PathLike[str], shot_index: int, detector: str | None = None) -> Image.Image:
    """The middle frame of shot ``shot_index`` of ``video`` (counted from 1), found by the studio's
    shot detection, as an RGB picture at the video's size."""
    from animstudio.analysis import DEFAULT_DETECTOR, detect_scenes
    from animstudio.media import iter_frames

    path = Path(video).expanduser()
    if not path.is_file():
        raise InvalidInputError(f"no video at {path}; give an existing video file")
    shots = detect_scenes(path, detector=detector or DEFAULT_DETECTOR).shots
    if not 1 <= shot_index <= len(shots):
        raise InvalidInputError(f"{path.name} has {len(shots)} shot{'s' * (len(shots) != 1)}; pass a shot from 1 "
                                f"to {len(shots)}, got {shot_index}")
    shot = shots[shot_index - 1]
    middle = shot.start_frame + shot.frames // 2
    for frame in iter_frames(path, start_s=shot.start_s):
        if frame.index == middle:
            return Image.fromarray(frame.image)
    raise InvalidInputError(f"{path.name} ended before frame {middle}; the file may be cut short, re-encode it")


@hookimpl
def register_control_preprocessors(register: Any) -> None:
    for preprocessor in (Canny, LineArt, Scribble, Segmentation, PosePreprocessor, Depth, Normal):
        register(preprocessor)
