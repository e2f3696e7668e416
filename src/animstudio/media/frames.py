"""Decode video frames once, at the size and colour you ask for, with their timestamps.

Frames come upright (a rotation in the file's display matrix is applied, as players do) and are
numbered from 0 in presentation order, also after a seek and on variable-frame-rate video.

    >>> for f in iter_frames("clip.mp4", width=320, fmt="gray"):
    ...     f.index, f.time_s, f.image.shape        # 0, 0.0, (180, 320)
    >>> read_frame("clip.mp4", 2.5).image           # the RGB frame shown at 2.5 s
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import av
import numpy as np

from animstudio.errors import InvalidInputError
from animstudio.media.open import open_media, unreadable, video_stream

PixelFormat = Literal["rgb24", "bgr24", "gray"]


@dataclass
class Frame:
    index: int          # 0-based frame number in presentation order
    time_s: float       # presentation time from the start of the stream
    image: np.ndarray   # (H, W, 3) uint8, or (H, W) for gray
    source: av.VideoFrame | None = None  # the decoded frame, when asked for (keep_source=True)


def _target_size(src_w: int, src_h: int, width: int | None, height: int | None) -> tuple[int, int]:
    if width and height:
        return width, height
    if width:
        return width, max(2, round(src_h * width / src_w / 2) * 2)
    if height:
        return max(2, round(src_w * height / src_h / 2) * 2), height
    return src_w, src_h


def _constant_rate(stream: av.VideoStream) -> float | None:
    """The frame rate when the stream declares a constant one, else None (count frames instead)."""
    nominal, average = stream.guessed_rate or stream.base_rate, stream.average_rate
    if nominal and average and abs(float(nominal) - float(average)) <= 1e-3 * float(nominal):
        return float(nominal)
    return None


def _frames_before(path: str, stream_index: int, pts: int) -> int:
    """How many shown frames precede ``pts``: an exact frame number after a seek, whatever the frame rate."""
    with av.open(path) as container:
        stream = container.streams[stream_index]
        return sum(1 for pkt in container.demux(stream)
                   if pkt.pts is not None and pkt.size and not pkt.is_discard and pkt.pts < pts)


def _check_args(width: int | None, height: int | None, step: int, start_s: float) -> None:
    if step < 1:
        raise InvalidInputError(f"step must be 1 or more, got {step}")
    for name, value in (("width", width), ("height", height)):
        if value is not None and not 2 <= value <= 16384:
            raise InvalidInputError(f"{name} must be between 2 and 16384 pixels, got {value}")
    if not math.isfinite(start_s) or start_s < 0:
        raise InvalidInputError(f"start time must be 0 or more seconds, got {start_s}")


def iter_frames(path: str | os.PathLike[str], width: int | None = None, height: int | None = None,
                fmt: PixelFormat = "rgb24", start_s: float = 0.0, end_s: float | None = None,
                step: int = 1, threads: int = 0, fast: bool = False,
                keep_source: bool = False, images: bool = True, skip_loop_filter: bool = False) -> Iterator[Frame]:
    """Yield frames from ``start_s`` to ``end_s``; every ``step``-th one. Size keeps aspect if one side given.

    ``fast``: for analysis at a fraction of the source size, sample the decoded YUV planes every n-th
    pixel (no filtering, no scaler): the result is about ``width`` wide and costs almost nothing
    beyond decoding. Other sources fall back to the scaler. ``images=False`` with ``keep_source``
    skips the conversion: the caller gets the decoded frame only. ``skip_loop_filter`` decodes every
    frame without the codec's deblocking filter (much faster, slightly blockier pictures): fine for
    measuring change between frames, not for judging picture quality.
    """
    _check_args(width, height, step, start_s)
    p, container = open_media(path)
    with container:
        stream = video_stream(container)
        if stream is None:
            raise InvalidInputError(f"{p} has no video stream (audio only); pass a video file")
        stream.thread_type = "AUTO"          # frame + slice threads
        if threads:
            stream.codec_context.thread_count = threads
        if skip_loop_filter:
            stream.codec_context.options = {"skip_loop_filter": "all"}
        origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        index: int | None = 0
        end = 0.0   # where the data decoded so far ends, seconds of the file
        try:
            if start_s > 0:
                container.seek(int((start_s + origin) / stream.time_base), stream=stream, backward=True)
                index = None  # worked out from the first frame decoded
            for frame in container.decode(stream):
                t = (frame.time if frame.time is not None else 0.0) - origin
                if index is None:
                    rate = _constant_rate(stream)
                    index = round(t * rate) if rate else _frames_before(str(p), stream.index, frame.pts or 0)
                if t < start_s - 1e-6:
                    index += 1
                    continue
                if end_s is not None and t >= end_s:
                    break
                end = t + origin + (float(frame.duration * frame.time_base) if frame.duration and frame.time_base
                                    else 0.0)
                if index % step == 0:
                    if not images:  # the caller converts the kept source frame itself (e.g. in a thread)
                        image = np.empty((0, 0, 3), np.uint8)
                    elif fast and fmt == "rgb24" and width:
                        image = sample_planes(frame, width, height)
                    else:
                        image = _image(frame, width, height, fmt)
                    yield Frame(index=index, time_s=round(t, 6), image=image,
                                source=frame if keep_source else None)
                index += 1
            else:  # the data ran out: a file cut short must not pass for a short video
                _check_whole(p, container, stream, index or 0, end)
        except av.error.FFmpegError as exc:
            raise unreadable(p, exc) from exc


def _check_whole(p: Path, container: av.container.InputContainer, stream: av.VideoStream, frames: int,
                 end: float) -> None:
    """After decoding to the end of the data: a file that holds fewer frames or seconds than its
    header promises is refused as ``probe`` refuses it (probe also weighs the audio, so only it decides)."""
    from animstudio.media.probe import probe, truncation

    if truncation(p, container.format.name, (container.duration or 0) / av.time_base, stream.frames, frames, end):
        probe(p)   # raises MediaUnreadableError naming the mismatch


def sample_planes(frame: av.VideoFrame, width: int, height: int | None = None) -> np.ndarray:
    """An RGB picture about ``width`` wide: point-sampled planes where possible, else the scaler
    (to ``width`` x ``height``, or keeping the shape)."""
    image = _sampled(frame, width)
    return image if image is not None else _image(frame, width, height, "rgb24")


def sampled_yuv(frame: av.VideoFrame, width: int) -> tuple[np.ndarray, bool] | None:
    """Point-sampled Y, U and V planes (3, H, W) uint8 of 4:2:0 video, about ``width`` wide, and
    whether the range is full (JPEG) rather than limited; None where sampling does not apply (other
    formats, small sources, rotated frames). The planes are copied out of the frame."""
    if round((getattr(frame, "rotation", 0) or 0) / 90) % 4:
        return None
    return _plane_samples(frame, (frame.width // width) // 2 * 2)


def _plane_samples(frame: av.VideoFrame, n: int) -> tuple[np.ndarray, bool] | None:
    """Every ``n``-th luma sample and the chroma samples on the same grid (``n`` even)."""
    name = frame.format.name
    if name not in ("yuv420p", "yuvj420p") or n < 2:
        return None
    planes = []
    for i, s in ((0, n), (1, n // 2), (2, n // 2)):
        p = frame.planes[i]
        planes.append(np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[::s, : p.width: s])
    h = min(x.shape[0] for x in planes)
    w = min(x.shape[1] for x in planes)
    return np.stack([x[:h, :w] for x in planes]), name == "yuvj420p"


def yuv_to_rgb(yuv: np.ndarray, full_range: bool | np.ndarray, planar: bool = False) -> np.ndarray:
    """BT.601 RGB uint8 from Y, U, V planes (..., 3, H, W) uint8, vectorised over any leading axes;
    ``full_range`` is one flag, or one per leading index. The result is (..., H, W, 3), or with
    ``planar`` (..., 3, H, W)."""
    full = np.asarray(full_range, bool).reshape(np.shape(full_range) + (1, 1))
    y_off = np.where(full, np.float32(0.0), np.float32(16.0))      # limited range: Y 16-235, UV 16-240
    y_gain = np.where(full, np.float32(1.0), np.float32(255.0 / 219.0))
    uv_gain = np.where(full, np.float32(1.0), np.float32(255.0 / 224.0))
    y, u, v = (yuv[..., i, :, :].astype(np.float32) for i in range(3))
    y = (y - y_off) * y_gain
    u = (u - np.float32(128.0)) * uv_gain
    v = (v - np.float32(128.0)) * uv_gain
    axis = -3 if planar else -1
    img = np.empty(y.shape[:-2] + (3, *y.shape[-2:]) if planar else y.shape + (3,), np.float32)
    np.add(y, 1.402 * v, out=_channel(img, 0, axis))
    np.subtract(y, 0.344136 * u + 0.714136 * v, out=_channel(img, 1, axis))
    np.add(y, 1.772 * u, out=_channel(img, 2, axis))
    return np.clip(img, 0, 255, out=img).astype(np.uint8)


def _channel(img: np.ndarray, i: int, axis: int) -> np.ndarray:
    return img[..., i, :, :] if axis == -3 else img[..., i]


def _sampled(frame: av.VideoFrame, width: int) -> np.ndarray | None:
    """Upright RGB by point-sampling the planes of 4:2:0 video, or None if not applicable."""
    turns = round((getattr(frame, "rotation", 0) or 0) / 90) % 4
    shown_w = frame.height if turns % 2 else frame.width
    sampled = _plane_samples(frame, (shown_w // width) // 2 * 2)
    if sampled is None:
        return None
    img = yuv_to_rgb(*sampled)
    return np.ascontiguousarray(np.rot90(img, turns)) if turns else img


def _image(frame: av.VideoFrame, width: int | None, height: int | None, fmt: PixelFormat) -> np.ndarray:
    turns = round((getattr(frame, "rotation", 0) or 0) / 90) % 4
    src_w, src_h = (frame.height, frame.width) if turns % 2 else (frame.width, frame.height)
    w, h = _target_size(src_w, src_h, width, height)
    if turns % 2:
        w, h = h, w  # scale before turning
    img = frame.reformat(width=w, height=h, format=fmt).to_ndarray()
    return np.ascontiguousarray(np.rot90(img, turns)) if turns else img


def read_frame(path: str | os.PathLike[str], time_s: float, width: int | None = None,
               fmt: PixelFormat = "rgb24") -> Frame:
    """The frame shown at ``time_s``; past the end of the video, an error that gives its length."""
    if not math.isfinite(time_s) or time_s < 0:
        raise InvalidInputError(f"time must be 0 or more seconds, got {time_s}")
    last = None
    for frame in iter_frames(path, width=width, fmt=fmt, start_s=max(0.0, time_s - 0.5)):
        if frame.time_s > time_s + 1e-6 and last is not None:
            return last
        last = frame
    if last is None or time_s > last.time_s + 1.0:
        from animstudio.media.probe import probe

        length = probe(path, count_frames=False).duration_s
        raise InvalidInputError(f"{path} is {length:.2f} s long; pass a time from 0 to {length:.2f}")
    return last
