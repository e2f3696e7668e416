"""Open media with PyAV, turning every way a file can be wrong into a one-line MediaUnreadableError."""

from __future__ import annotations

import os
from pathlib import Path

import av

from animstudio.errors import MediaUnreadableError
from animstudio.files import check_input_file


def open_media(path: str | os.PathLike[str]) -> tuple[Path, av.container.InputContainer]:
    p = check_input_file(path, "media file")
    try:
        container = av.open(str(p), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise unreadable(p, exc, opening=True) from exc
    if not container.streams.video and not container.streams.audio:
        container.close()
        raise MediaUnreadableError(f"{p} has no video or audio stream; pass a video or audio file")
    return p, container


def video_stream(container: av.container.InputContainer) -> av.VideoStream | None:
    """The first real video stream: cover art (an attached picture) does not count."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    return None


def unreadable(path: Path, exc: Exception, opening: bool = False) -> MediaUnreadableError:
    """A one-line error for a file ffmpeg failed on; ``opening``: it failed to open at all."""
    reason = getattr(exc, "strerror", None) or str(exc)
    hint = "re-export or re-download it"
    if "moov atom not found" in reason or (opening and _looks_like_mp4(path)):
        hint = "it is an MP4/MOV that is truncated or still being written (no index); re-export or re-download it"
    elif "Invalid data" in reason:
        hint = "it is not a media file ffmpeg can read (wrong extension?); pass a video or audio file"
    return MediaUnreadableError(f"cannot read {path}: {reason}; {hint}")


def _looks_like_mp4(path: Path) -> bool:
    """ISO media files start with an ``ftyp`` box: failing to open one means it is incomplete."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp"
