"""A preview video of mouth cues: each cue's mouth drawing, frame-exact, over the recording.

A folder of drawings holds one PNG per shape, named ``A.png`` ... ``X.png`` or with any prefix
(``lisa-A.png``). A-F are needed; the optional G, H and X fall back to B, C and A, as in Rhubarb
Lip Sync when a set leaves its extended shapes out.

    render_preview(mouth_cues(phonemes, 2.4), "line.wav", "line-lipsync.mp4", shapes_dir="mouths/")
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterator
from pathlib import Path

from animstudio.errors import InvalidInputError
from animstudio.files import atomic_output, check_input_file
from animstudio.progress import ProgressCallback, ignore
from animstudio.voice.lipsync import SHAPES, Cue

BASIC_SHAPES = "ABCDEF"
FALLBACK = {"G": "B", "H": "C", "X": "A"}   # an extended shape a set lacks -> the basic shape drawn instead
BACKGROUND = (255, 255, 255)                  # behind transparent parts of a drawing


def default_shapes_dir() -> Path | None:
    """The Rhubarb example drawings, where a source checkout has them beside it (``shared/data``)."""
    for root in Path(__file__).resolve().parents:
        candidate = root / "shared" / "data" / "lipsync" / "mouth_shapes"
        if candidate.is_dir():
            return candidate
    return None


def find_shapes(folder: str | os.PathLike[str] | None = None) -> dict[str, Path]:
    """Shape letter -> its drawing in ``folder`` (every letter of A-H and X, fallbacks filled in)."""
    if folder is None:
        folder = default_shapes_dir()
        if folder is None:
            raise InvalidInputError("no mouth drawings given; pass a folder of PNGs named A.png ... F.png "
                                    "(optionally G, H and X), e.g. --shapes mouths/")
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise InvalidInputError(f"mouth drawings folder {root} does not exist; pass a folder of PNGs named "
                                f"A.png ... F.png (optionally G, H and X)")
    pngs = sorted(p for p in root.iterdir() if p.suffix.lower() == ".png" and p.is_file())
    found: dict[str, Path] = {}
    for shape in SHAPES:
        matches = [p for p in pngs if p.stem.endswith(shape)]
        if len(matches) > 1:   # prefer "A.png" or "lisa-A.png" to, say, "DATA.png"
            matches = [p for p in matches if len(p.stem) == 1 or not p.stem[-2].isalnum()] or matches
        if len(matches) > 1:
            raise InvalidInputError(f"{root} has several drawings for shape {shape} "
                                    f"({', '.join(p.name for p in matches)}); keep one")
        if matches:
            found[shape] = matches[0]
    missing = [s for s in BASIC_SHAPES if s not in found]
    if missing:
        raise InvalidInputError(f"{root} has no drawing for mouth shape{'s' if len(missing) > 1 else ''} "
                                f"{', '.join(missing)}; add {', '.join(s + '.png' for s in missing)} (A-F are "
                                f"needed; G, H and X are optional)")
    for shape, basic in FALLBACK.items():
        found.setdefault(shape, found[basic])
    return found


def _frames(drawings: dict[str, Path], size: tuple[int, int] | None) -> tuple[dict[str, bytes], tuple[int, int]]:
    """Each shape's drawing as raw RGB bytes, all at one even size (H.264 needs even sides)."""
    from PIL import Image

    images = {}
    for shape, path in drawings.items():
        try:
            with Image.open(path) as im:
                images[shape] = im.convert("RGBA")
        except OSError as exc:
            raise InvalidInputError(f"cannot read mouth drawing {path} ({exc}); pass PNG files") from exc
    w, h = size or images["A"].size
    if w < 2 or h < 2:
        raise InvalidInputError(f"preview size must be at least 2x2 pixels, not {w}x{h}")
    w, h = w + w % 2, h + h % 2
    out = {}
    for shape, im in images.items():
        scale = min(w / im.width, h / im.height)
        if (im.width, im.height) != (w, h):
            im = im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))),
                           Image.Resampling.LANCZOS)
        canvas = Image.new("RGBA", (w, h), BACKGROUND + (255,))
        canvas.alpha_composite(im, ((w - im.width) // 2, (h - im.height) // 2))
        out[shape] = canvas.convert("RGB").tobytes()
    return out, (w, h)


def frame_shapes(cues: list[Cue], n_frames: int, fps: float) -> list[str]:
    """The shape shown in each frame: cue boundaries rounded to the nearest frame."""
    starts = [round(c.start_s * fps) for c in cues]
    return [cues[max(0, bisect.bisect_right(starts, k) - 1)].shape for k in range(n_frames)]


def render_preview(cues: list[Cue], audio_path: str | os.PathLike[str], output_mp4: str | os.PathLike[str],
                   shapes_dir: str | os.PathLike[str] | None = None, fps: float = 24,
                   size: tuple[int, int] | None = None, on_progress: ProgressCallback | None = None) -> Path:
    """Write an MP4 (H.264 + AAC) showing each cue's drawing over ``audio_path``; returns its path.

    ``size`` (width, height) scales the drawings to fit; by default the size of drawing A."""
    from animstudio.media.ffmpeg import run_ffmpeg
    from animstudio.media.probe import probe

    if not cues:
        raise InvalidInputError("no mouth cues to preview; make them from the recording first")
    if not 1 <= fps <= 120:
        raise InvalidInputError(f"preview frame rate must be 1 to 120 fps, not {fps}")
    audio = check_input_file(audio_path, "audio file")
    info = probe(audio)
    if not info.audio:
        raise InvalidInputError(f"{audio} has no audio stream; pass the recording the cues were made from")
    bad = [c.shape for c in cues if c.shape not in SHAPES]
    if bad:
        raise InvalidInputError(f"unknown mouth shape {bad[0]!r}; cues use {', '.join(SHAPES)}")
    pictures, (w, h) = _frames(find_shapes(shapes_dir), size)
    duration = info.duration_s or cues[-1].end_s
    n_frames = max(1, round(duration * fps))
    shapes = frame_shapes(cues, n_frames, fps)

    def chunks() -> Iterator[bytes]:
        for shape in shapes:
            yield pictures[shape]

    with atomic_output(output_mp4, "preview") as tmp:
        run_ffmpeg(["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-framerate", f"{fps:g}", "-i", "-",
                    "-i", str(audio), "-map", "0:v:0", "-map", "1:a:0", "-frames:v", str(n_frames),
                    "-c:v", "libx264", "-preset", "veryfast", "-tune", "animation", "-crf", "18", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-b:a", "160k", "-movflags", "+faststart", str(tmp)],
                   duration_s=n_frames / fps, on_progress=on_progress or ignore, task="preview", stdin_chunks=chunks())
    return Path(output_mp4)
