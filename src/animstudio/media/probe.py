"""Probe a media file: container, duration, frame rates, frame count, VFR, size, SAR, rotation, audio.

    >>> info = probe("big_buck_bunny_0_30.webm")
    >>> info.frame_count, info.fps, info.vfr        # (720, 24.0, False)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction

import av
from pydantic import BaseModel

from animstudio.errors import InvalidInputError, MediaUnreadableError
from animstudio.media.open import open_media, unreadable, video_stream


class AudioStreamInfo(BaseModel):
    index: int
    codec: str
    sample_rate: int
    channels: int
    layout: str
    duration_s: float | None = None
    language: str | None = None


class MediaInfo(BaseModel):
    path: str
    container: str
    size_bytes: int
    duration_s: float
    bit_rate: int | None = None
    has_video: bool
    video_codec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None              # nominal rate (the stream's declared/guessed frame rate)
    fps_fraction: str | None = None       # exact, e.g. "24000/1001"
    avg_fps: float | None = None          # frames / duration
    frame_count: int | None = None        # frames actually present (counted from packets)
    vfr: bool = False                     # frame durations vary
    sample_aspect_ratio: str = "1:1"
    display_aspect_ratio: str | None = None
    rotation: int = 0                     # degrees, display matrix
    pix_fmt: str | None = None
    audio: list[AudioStreamInfo] = []

    @property
    def display_size(self) -> tuple[int, int] | None:
        """Width and height as shown: SAR applied, rotation applied."""
        if not self.width or not self.height:
            return None
        num, den = (int(x) for x in self.sample_aspect_ratio.split(":"))
        w, h = round(self.width * num / den), self.height
        return (h, w) if self.rotation % 180 else (w, h)


def _ratio(value: Fraction | None) -> str:
    if not value or value.numerator == 0:
        return "1:1"
    return f"{value.numerator}:{value.denominator}"


def frame_steps(stamps: Sequence[float], tolerance: float) -> tuple[bool, float]:
    """(variable frame rate?, typical frame duration) from sorted presentation times, in any unit.

    VFR: frame durations, 5 % trimmed at each end, differ by more than half (beyond ``tolerance``,
    the rounding of the time base).
    """
    deltas = sorted(b - a for a, b in zip(stamps, stamps[1:], strict=False) if b > a)
    if not deltas:
        return False, 0
    step = deltas[len(deltas) // 2]
    if len(deltas) <= 2:
        return False, step
    core = deltas[len(deltas) // 20: len(deltas) - len(deltas) // 20 or None]
    return core[-1] > core[0] * 1.5 + tolerance, step


def _timing(container: av.container.InputContainer,
            stream: av.VideoStream) -> tuple[int, int, bool, float | None, float]:
    """Demux every packet without decoding: (frames shown, video packets, vfr?, video span, end of data).

    Packets an edit list discards are not frames anyone sees, so they are not counted.
    """
    pts: list[int] = []
    packets = 0
    end = 0.0
    for pkt in container.demux():
        if pkt.pts is None or pkt.size == 0:
            continue
        if pkt.stream is stream:
            packets += 1
            if pkt.is_discard:
                continue
            pts.append(pkt.pts)
        if pkt.time_base:
            end = max(end, float((pkt.pts + (pkt.duration or 0)) * pkt.time_base))
    if not pts:
        return 0, packets, False, None, end
    pts.sort()
    tb = float(stream.time_base)
    vfr, step = frame_steps(pts, tolerance=1)  # one tick: rounding in coarse time bases
    return len(pts), packets, vfr, ((pts[-1] - pts[0] + step) * tb if step else None), end


def truncation(path: object, container: str, duration_s: float, declared: int, present: int,
               end_s: float) -> str | None:
    """Why a file whose header promises ``declared`` frames and ``duration_s`` seconds, but holds
    ``present`` frames and data up to ``end_s``, is cut short; None when it is whole."""
    if declared and present < declared * 0.98:
        return (f"{path} is truncated: its header lists {declared} frames but only {present} are present; "
                f"re-export or re-download it")
    if "matroska" in container and duration_s > 2 and end_s < 0.9 * duration_s:
        return (f"{path} is truncated: its header says {duration_s:.2f} s but the data ends at {end_s:.2f} s; "
                f"re-export or re-download it")
    return None


def probe(path: str | os.PathLike[str], count_frames: bool = True) -> MediaInfo:
    """Describe ``path``. ``count_frames`` demuxes the video to count frames exactly and detect VFR."""
    p, container = open_media(path)
    with container:
        info = MediaInfo(path=str(p), container=container.format.name, size_bytes=p.stat().st_size,
                         duration_s=(container.duration or 0) / av.time_base, bit_rate=container.bit_rate or None,
                         has_video=bool(container.streams.video))
        for a in container.streams.audio:
            cc = a.codec_context
            info.audio.append(AudioStreamInfo(
                index=a.index, codec=cc.name, sample_rate=cc.sample_rate or a.rate or 0,
                channels=cc.channels, layout=cc.layout.name if cc.layout else "",
                duration_s=float(a.duration * a.time_base) if a.duration else None, language=a.language))
        v = video_stream(container)
        info.has_video = v is not None
        if v is not None:
            cc = v.codec_context
            rate = v.guessed_rate or v.base_rate or v.average_rate
            info.video_codec = cc.name
            info.width, info.height = cc.width, cc.height
            info.pix_fmt = cc.format.name if cc.format else None
            info.fps = round(float(rate), 6) if rate else None
            info.fps_fraction = f"{rate.numerator}/{rate.denominator}" if rate else None
            info.sample_aspect_ratio = _ratio(v.sample_aspect_ratio or cc.sample_aspect_ratio)
            info.display_aspect_ratio = _ratio(v.display_aspect_ratio) if v.display_aspect_ratio else None
            info.rotation = _rotation(container, v)
            if count_frames:
                try:
                    container.seek(0)
                    count, packets, info.vfr, span, end = _timing(container, v)
                except av.error.FFmpegError as exc:
                    raise unreadable(p, exc) from exc
                cut_short = truncation(p, info.container, info.duration_s, v.frames, packets, end)
                if cut_short:
                    raise MediaUnreadableError(cut_short)
                info.frame_count = count
                if span and not info.duration_s:
                    info.duration_s = span
                if span and count > 1:
                    info.avg_fps = round(count / span, 6)
            elif v.frames:
                info.frame_count = v.frames
            elif info.fps and info.duration_s:
                info.frame_count = round(info.duration_s * info.fps)
            if info.avg_fps is None and info.frame_count and info.duration_s:
                info.avg_fps = round(info.frame_count / info.duration_s, 6)
            if info.frame_count == 0:
                raise MediaUnreadableError(f"{p} has a video stream with no frames; re-export or re-download it")
        elif not info.duration_s and info.audio and info.audio[0].duration_s:
            info.duration_s = info.audio[0].duration_s
    return info


def _rotation(container: av.container.InputContainer, stream: av.VideoStream) -> int:
    """Display rotation in degrees (0, 90, 180, 270) read from the first decoded frame."""
    try:
        for frame in container.decode(stream):
            return int(round(getattr(frame, "rotation", 0) or 0)) % 360
    except av.error.FFmpegError:
        return 0
    return 0


def require_video(info: MediaInfo) -> MediaInfo:
    if not info.has_video:
        raise InvalidInputError(f"{info.path} has no video stream (audio only); pass a video file")
    return info


def require_audio(info: MediaInfo) -> MediaInfo:
    if not info.audio:
        raise InvalidInputError(f"{info.path} has no audio stream; pass a file with sound")
    return info

