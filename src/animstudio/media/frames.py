"""Decode video frames once, at the size and colour you ask for, with their timestamps.

    >>> for f in iter_frames("clip.mp4", width=320, fmt="gray"):
    ...     f.index, f.time_s, f.image.shape        # 0, 0.0, (180, 320)
    >>> read_frame("clip.mp4", 2.5).image           # one RGB frame near 2.5 s
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import av
import numpy as np

from animstudio.errors import InvalidInputError
from animstudio.media.open import open_media, unreadable

PixelFormat = Literal["rgb24", "bgr24", "gray"]


@dataclass
class Frame:
    index: int          # 0-based decoded frame number
    time_s: float       # presentation time from the start of the stream
    image: np.ndarray   # (H, W, 3) uint8, or (H, W) for gray


def _target_size(src_w: int, src_h: int, width: int | None, height: int | None) -> tuple[int, int]:
    if width and height:
        return width, height
    if width:
        return width, max(2, round(src_h * width / src_w / 2) * 2)
    if height:
        return max(2, round(src_w * height / src_h / 2) * 2), height
    return src_w, src_h


def iter_frames(path: str | os.PathLike[str], width: int | None = None, height: int | None = None,
                fmt: PixelFormat = "rgb24", start_s: float = 0.0, end_s: float | None = None,
                step: int = 1, threads: int = 0) -> Iterator[Frame]:
    """Yield frames from ``start_s`` to ``end_s``; every ``step``-th one. Size keeps aspect if one side given."""
    if step < 1:
        raise InvalidInputError(f"step must be 1 or more, got {step}")
    p, container = open_media(path)
    with container:
        if not container.streams.video:
            raise InvalidInputError(f"{p} has no video stream (audio only); pass a video file")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"          # frame + slice threads
        if threads:
            stream.codec_context.thread_count = threads
        rate = float(stream.guessed_rate or stream.average_rate or 0) or None
        origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        size = _target_size(stream.codec_context.width, stream.codec_context.height, width, height)
        index = 0
        if start_s > 0 and rate:
            container.seek(int((start_s + origin) / stream.time_base), stream=stream, backward=True)
            index = -1  # recomputed from the first frame's time
        try:
            for frame in container.decode(stream):
                t = (frame.time if frame.time is not None else 0.0) - origin
                if index < 0:
                    index = round(t * rate) if rate else 0
                if t < start_s - 1e-6:
                    index += 1
                    continue
                if end_s is not None and t >= end_s:
                    break
                if index % step == 0:
                    av_fmt = "gray" if fmt == "gray" else fmt
                    img = frame.reformat(width=size[0], height=size[1], format=av_fmt).to_ndarray()
                    yield Frame(index=index, time_s=round(t, 6), image=img)
                index += 1
        except av.error.FFmpegError as exc:
            raise unreadable(p, exc) from exc


def read_frame(path: str | os.PathLike[str], time_s: float, width: int | None = None,
               fmt: PixelFormat = "rgb24") -> Frame:
    """The frame shown at ``time_s`` (the last one if the time is past the end)."""
    last = None
    for frame in iter_frames(path, width=width, fmt=fmt, start_s=max(0.0, time_s - 0.5)):
        if frame.time_s > time_s + 1e-6 and last is not None:
            return last
        last = frame
    if last is None:
        raise InvalidInputError(f"{path} has no frame at {time_s:.3f} s; pass a time inside the video")
    return last
