"""The sample clip: a short cartoon-like video whose every shot, cut and camera move is known.

Six shots of flat-colour characters and backgrounds: a title card, a talking character with a
one-frame impact flash, a pan (the camera turns right, so the picture moves left), a dissolve into
a zoom in, a two-character night scene and a close-up, with a speech-like track whose phrases the
characters' mouths follow. The ground truth is written beside the video as ``<stem>.truth.json``.

    >>> truth = make_sample("sample.mp4", seconds=12, seed=0)
    >>> truth.cuts, truth.transitions[0].start, truth.shots[2].camera    # [..], .., "pan_right"
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from pydantic import BaseModel

from animstudio.errors import InvalidInputError
from animstudio.files import atomic_output, check_output_path
from animstudio.media.ffmpeg import run_ffmpeg
from animstudio.media.speechlike import phrase
from animstudio.progress import Progress, ProgressCallback, ignore

SUPPORTED = (".mp4", ".mov", ".mkv")
# relative shot lengths: title, talk+flash, pan, zoom, night two-shot, close-up
WEIGHTS = (1.2, 2.0, 2.0, 2.6, 2.2, 2.0)
OUTLINE = (20, 16, 24)


class Transition(BaseModel):
    type: str
    start: int   # first blended frame
    end: int     # first frame after the blend


class Shot(BaseModel):
    index: int
    start: int   # first frame
    end: int     # first frame of the next shot (for a dissolve: its middle)
    kind: str
    camera: str  # static, pan_right, zoom_in
    content_dx_px_per_frame: float = 0.0   # how the background moves on screen (pan right: negative)
    scale_start: float = 1.0               # zoom factor at the first and last frame of the shot
    scale_end: float = 1.0


class SpeechSegment(BaseModel):
    start_s: float
    end_s: float
    speaker: str


class SampleTruth(BaseModel):
    generator: str = "animstudio.media.sample"
    version: int = 1
    seed: int
    fps: int
    width: int
    height: int
    frame_count: int
    duration_s: float
    sample_rate: int
    cuts: list[int]                 # hard cuts: frame n is the first of a new shot
    transitions: list[Transition]   # gradual transitions (not in `cuts`)
    flashes: list[int]              # one-frame flashes (not cuts)
    shots: list[Shot]
    speech: list[SpeechSegment]


def truth_path(video: str | os.PathLike[str]) -> Path:
    p = Path(video)
    return p.with_name(p.stem + ".truth.json")


# -- drawing ------------------------------------------------------------------------------------

def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)  # Pillow's bundled font: no system fonts


def _character(d: ImageDraw.ImageDraw, cx: float, cy: float, s: float, body: tuple[int, int, int],
               mouth: float, blink: bool = False) -> None:
    """A blob character centred at (cx, cy) with size s; ``mouth`` 0 (closed) .. 1 (wide open)."""
    w = max(2, int(3 * s / 60))
    d.ellipse([cx - 0.8 * s, cy - 0.2 * s, cx + 0.8 * s, cy + 1.6 * s], fill=body, outline=OUTLINE, width=w)
    d.ellipse([cx - 0.75 * s, cy - 1.45 * s, cx + 0.75 * s, cy + 0.05 * s], fill=body, outline=OUTLINE, width=w)
    for ex in (-0.3, 0.3):
        if blink:
            d.line([cx + (ex - 0.15) * s, cy - 0.85 * s, cx + (ex + 0.15) * s, cy - 0.85 * s], fill=OUTLINE, width=w)
        else:
            d.ellipse([cx + (ex - 0.17) * s, cy - 1.05 * s, cx + (ex + 0.17) * s, cy - 0.65 * s],
                      fill=(255, 255, 255), outline=OUTLINE, width=w)
            d.ellipse([cx + (ex - 0.07) * s, cy - 0.92 * s, cx + (ex + 0.07) * s, cy - 0.76 * s], fill=OUTLINE)
    h = 0.04 + 0.3 * min(1.0, mouth)
    d.ellipse([cx - 0.25 * s, cy - 0.45 * s - h * s / 2, cx + 0.25 * s, cy - 0.45 * s + h * s / 2],
              fill=(120, 20, 40), outline=OUTLINE, width=w)


def _landscape(w: int, h: int, sky: tuple, hill: tuple, ground: tuple, rng: np.random.Generator,
               props: int = 0) -> Image.Image:
    img = Image.new("RGB", (w, h), sky)
    d = ImageDraw.Draw(img)
    xs = np.arange(0, w + 40, 40)
    ys = h * 0.55 + h * 0.08 * np.sin(xs / (w / 7 + 1) + rng.uniform(0, 6))
    d.polygon([(0, h)] + list(zip(xs.tolist(), ys.tolist(), strict=False)) + [(w, h)], fill=hill, outline=OUTLINE)
    d.rectangle([0, int(h * 0.75), w, h], fill=ground, outline=OUTLINE, width=2)
    for i in range(props):  # trees and houses: strong features for motion estimation
        x = (i + 0.5) * w / props + rng.uniform(-20, 20)
        base = h * 0.75
        if i % 2:
            d.rectangle([x - 40, base - 90, x + 40, base], fill=tuple(rng.integers(120, 255, 3).tolist()),
                        outline=OUTLINE, width=3)
            d.polygon([(x - 50, base - 90), (x, base - 140), (x + 50, base - 90)], fill=(170, 40, 40), outline=OUTLINE)
            d.rectangle([x - 12, base - 50, x + 12, base], fill=(90, 60, 30), outline=OUTLINE)
        else:
            d.rectangle([x - 8, base - 70, x + 8, base], fill=(110, 70, 30), outline=OUTLINE)
            d.ellipse([x - 45, base - 150, x + 45, base - 55], fill=(30, 140, 50), outline=OUTLINE, width=3)
    return img


# -- the storyboard -----------------------------------------------------------------------------

class _Board:
    def __init__(self, seconds: float, fps: int, width: int, height: int, seed: int, rate: int) -> None:
        self.fps, self.w, self.h, self.rate = fps, width, height, rate
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.total = round(seconds * fps)
        lengths = [round(wt / sum(WEIGHTS) * self.total) for wt in WEIGHTS]
        lengths[-1] = self.total - sum(lengths[:-1])
        self.starts = np.cumsum([0] + lengths[:-1]).tolist()
        self.lengths = lengths
        self.dissolve = max(6, round(0.5 * fps))
        pan_len = lengths[2] + self.dissolve
        # about 6 px a frame at 640 wide; long pans slow down so the background stays within 4 widths
        self.pan_v = max(1, min(round(6 * width / 640), (3 * width) // pan_len))
        self.zoom_end = 1.5
        self.flash = self.starts[1] + lengths[1] // 2
        palette = lambda lo, hi: tuple(int(v) for v in self.rng.integers(lo, hi, 3))  # noqa: E731
        self.colors = {"A": palette(150, 255), "B": palette(60, 200)}
        s = self.h / 360
        self.title_bg = (60, 30, 90)
        self.bg1 = _landscape(width, height, (120, 190, 250), (90, 180, 90), (200, 170, 110), self.rng)
        pan_len = self.lengths[2] + self.dissolve
        self.bg2 = _landscape(width + self.pan_v * pan_len + 2, height, (250, 160, 90), (150, 90, 60),
                              (90, 60, 40), self.rng, props=max(4, (width + self.pan_v * pan_len) // 110))
        self.scale = s
        self._speech()

    # speech: phrases inside the talking shots, mouths follow the envelope
    def _speech(self) -> None:
        n = int(self.total / self.fps * self.rate)
        self.audio = (self.rng.standard_normal(n) * 10 ** (-55 / 20)).astype(np.float32)  # room tone
        self.env = {"A": np.zeros(n, np.float32), "B": np.zeros(n, np.float32)}
        self.segments: list[SpeechSegment] = []
        plan = {1: ["A"], 3: ["B"], 4: ["A", "B"], 5: ["A"]}
        for shot, speakers in plan.items():
            t0 = self.starts[shot] / self.fps + 0.15
            t1 = (self.starts[shot] + self.lengths[shot]) / self.fps - 0.15
            slot = (t1 - t0) / len(speakers)
            for i, who in enumerate(speakers):
                a = t0 + i * slot + (0.1 if i else 0.0)
                dur = min(slot - 0.1, max(0.4, slot * self.rng.uniform(0.7, 0.9)))
                if dur < 0.3:
                    continue
                pcm, env = phrase(self.rng, dur, 130.0 if who == "A" else 230.0, self.rate)
                i0 = int(a * self.rate)
                self.audio[i0:i0 + len(pcm)] += pcm * 0.5
                self.env[who][i0:i0 + len(env)] = env
                self.segments.append(SpeechSegment(start_s=round(i0 / self.rate, 4),
                                                   end_s=round((i0 + len(pcm)) / self.rate, 4), speaker=who))

    def mouth(self, who: str, frame: int) -> float:
        a = int(frame / self.fps * self.rate)
        b = int((frame + 1) / self.fps * self.rate)
        return float(self.env[who][a:b].mean()) if b > a else 0.0

    # shot renderers take the global frame number
    def title(self, f: int) -> Image.Image:
        img = Image.new("RGB", (self.w, self.h), self.title_bg)
        d = ImageDraw.Draw(img)
        big, small = _font(int(56 * self.scale)), _font(int(22 * self.scale))
        d.text((self.w / 2, self.h * 0.42), "ANIMSTUDIO", font=big, fill=(255, 220, 90), anchor="mm",
               stroke_width=max(1, int(3 * self.scale)), stroke_fill=OUTLINE)
        d.text((self.w / 2, self.h * 0.62), f"sample clip  seed {self.seed}", font=small, fill=(240, 240, 255),
               anchor="mm")
        return img

    def talk(self, f: int) -> Image.Image:
        if f == self.flash:
            return Image.new("RGB", (self.w, self.h), (255, 255, 245))
        img = self.bg1.copy()
        k = f - self.starts[1]
        _character(ImageDraw.Draw(img), self.w * 0.5, self.h * 0.45 + 4 * np.sin(k / 3) * self.scale,
                   70 * self.scale, self.colors["A"], self.mouth("A", f), blink=(k % 40) in (20, 21))
        return img

    def pan(self, f: int) -> Image.Image:
        k = f - self.starts[2]
        x = self.pan_v * k
        img = self.bg2.crop((x, 0, x + self.w, self.h))
        d = ImageDraw.Draw(img)  # a character walking with the camera
        _character(d, self.w * 0.35, self.h * 0.52 + 6 * abs(np.sin(k / 2.5)) * self.scale, 45 * self.scale,
                   self.colors["B"], 0.0)
        return img

    def zoom_scale(self, f: int) -> float:
        first = self.starts[3] - self.dissolve // 2
        last = self.starts[3] + self.lengths[3] - 1
        return 1.0 + (self.zoom_end - 1.0) * (f - first) / max(1, last - first)

    def zoom(self, f: int) -> Image.Image:
        z = self.zoom_end
        big = Image.new("RGB", (int(self.w * z), int(self.h * z)), (235, 215, 170))
        d = ImageDraw.Draw(big)
        W, H = big.size
        d.rectangle([0, int(H * 0.78), W, H], fill=(150, 100, 70), outline=OUTLINE, width=3)
        d.rectangle([int(W * 0.07), int(H * 0.15), int(W * 0.27), int(H * 0.5)], fill=(140, 200, 250),
                    outline=OUTLINE, width=5)
        d.rectangle([int(W * 0.75), int(H * 0.2), int(W * 0.9), int(H * 0.42)], fill=(200, 80, 90),
                    outline=OUTLINE, width=5)
        _character(d, W * 0.5, H * 0.5, 80 * self.scale * z, self.colors["B"], self.mouth("B", f))
        s = self.zoom_scale(f)
        cw, ch = W / s, H / s
        box = ((W - cw) / 2, (H - ch) / 2, (W + cw) / 2, (H + ch) / 2)
        return big.resize((self.w, self.h), Image.Resampling.BILINEAR, box=box)

    def night(self, f: int) -> Image.Image:
        img = Image.new("RGB", (self.w, self.h), (20, 30, 70))
        d = ImageDraw.Draw(img)
        star = np.random.default_rng(self.seed + 7)
        for _ in range(40):
            x, y = star.uniform(0, self.w), star.uniform(0, self.h * 0.5)
            d.ellipse([x - 2, y - 2, x + 2, y + 2], fill=(250, 250, 200))
        d.ellipse([self.w * 0.8, self.h * 0.08, self.w * 0.8 + 60 * self.scale, self.h * 0.08 + 60 * self.scale],
                  fill=(250, 240, 180))
        d.rectangle([0, int(self.h * 0.8), self.w, self.h], fill=(40, 70, 50), outline=OUTLINE, width=2)
        _character(d, self.w * 0.3, self.h * 0.5, 60 * self.scale, self.colors["A"], self.mouth("A", f))
        _character(d, self.w * 0.7, self.h * 0.5, 55 * self.scale, self.colors["B"], self.mouth("B", f))
        return img

    def closeup(self, f: int) -> Image.Image:
        img = Image.new("RGB", (self.w, self.h), (250, 215, 60))
        d = ImageDraw.Draw(img)
        for i in range(0, self.w + self.h, int(60 * self.scale)):  # speed-line backdrop
            d.line([i, 0, i - self.h, self.h], fill=(245, 190, 40), width=int(14 * self.scale))
        _character(d, self.w * 0.5, self.h * 0.62, 150 * self.scale, self.colors["A"], self.mouth("A", f))
        return img

    def frame(self, f: int) -> Image.Image:
        renderers: list[Callable[[int], Image.Image]] = [self.title, self.talk, self.pan, self.zoom, self.night,
                                                          self.closeup]
        shot = max(i for i, s in enumerate(self.starts) if s <= f)
        d0 = self.starts[3] - self.dissolve // 2
        if d0 <= f < d0 + self.dissolve:
            alpha = (f - d0 + 1) / (self.dissolve + 1)
            return Image.blend(self.pan(f), self.zoom(f), alpha)
        return renderers[shot](f)

    def truth(self) -> SampleTruth:
        kinds = ["title", "talk", "pan", "zoom", "two-shot", "close-up"]
        d0 = self.starts[3] - self.dissolve // 2
        shots = []
        for i, (s, n) in enumerate(zip(self.starts, self.lengths, strict=False)):
            shot = Shot(index=i, start=s, end=s + n, kind=kinds[i], camera="static")
            if i == 2:
                shot.camera, shot.content_dx_px_per_frame = "pan_right", -float(self.pan_v)
            if i == 3:
                shot.camera = "zoom_in"
                shot.scale_start = round(self.zoom_scale(s), 5)
                shot.scale_end = round(self.zoom_scale(s + n - 1), 5)
            shots.append(shot)
        return SampleTruth(
            seed=self.seed, fps=self.fps, width=self.w, height=self.h, frame_count=self.total,
            duration_s=round(self.total / self.fps, 6), sample_rate=self.rate,
            cuts=[self.starts[i] for i in (1, 2, 4, 5)],
            transitions=[Transition(type="dissolve", start=d0, end=d0 + self.dissolve)],
            flashes=[self.flash], shots=shots, speech=self.segments)


def _check(seconds: float, fps: int, width: int, height: int, seed: int) -> None:
    if not math.isfinite(seconds) or not 6 <= seconds <= 600:
        raise InvalidInputError(f"--seconds must be between 6 and 600 (got {seconds}); the clip needs six shots")
    if seed < 0:
        raise InvalidInputError(f"--seed must be 0 or more (got {seed})")
    if not 8 <= fps <= 60:
        raise InvalidInputError(f"--fps must be between 8 and 60 (got {fps})")
    if width % 2 or height % 2 or not (160 <= width <= 3840 and 90 <= height <= 2160):
        raise InvalidInputError(f"size {width}x{height} must be even, from 160x90 to 3840x2160")


def make_sample(out: str | os.PathLike[str], seconds: float = 12.0, seed: int = 0, fps: int = 24,
                width: int = 640, height: int = 360, sample_rate: int = 48000,
                on_progress: ProgressCallback = ignore) -> SampleTruth:
    """Render the sample clip to ``out`` (.mp4/.mov/.mkv) and its ground truth beside it."""
    _check(seconds, fps, width, height, seed)
    out = check_output_path(out, "sample clip")
    if out.suffix.lower() not in SUPPORTED:
        raise InvalidInputError(f"{out.name}: the sample clip is written as {', '.join(SUPPORTED)}; "
                                f"change the file extension")
    board = _Board(seconds, fps, width, height, seed, sample_rate)
    truth = board.truth()

    def frames() -> Iterator[bytes]:
        for f in range(board.total):
            yield board.frame(f).tobytes()
            on_progress(Progress("render sample", f + 1, board.total, "frames"))

    with tempfile.TemporaryDirectory(prefix="animstudio-sample-") as tmp:
        wav = Path(tmp) / "speech.wav"
        pcm = (np.clip(board.audio, -1, 1) * 32767).astype("<i2")
        with wave.open(str(wav), "wb") as wf:
            wf.setnchannels(1)
            wf.setsampwidth(2)
            wf.setframerate(sample_rate)
            wf.writeframes(pcm.tobytes())
        with atomic_output(out, "sample clip") as tmp_video, atomic_output(truth_path(out)) as tmp_truth:
            run_ffmpeg(["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-framerate", str(fps),
                        "-i", "-", "-i", str(wav), "-map", "0:v", "-map", "1:a",
                        "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p",
                        "-g", str(2 * fps), "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart",
                        str(tmp_video)], task="encode sample", stdin_chunks=frames())
            tmp_truth.write_text(json.dumps(truth.model_dump(), indent=2), encoding="utf-8")
    return truth
