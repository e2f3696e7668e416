"""Open media with PyAV, turning every way a file can be wrong into a one-line MediaUnreadableError."""

from __future__ import annotations

import os
from pathlib import Path

import av

from animstudio.errors import MediaUnreadableError
from animstudio.files import check_input_file


def open_media(path: str | os.PathLike[str]) -> tuple[Path, "av.container.InputContainer"]:
    p = check_input_file(path, "media file")
    try:
        container = av.open(str(p), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise unreadable(p, exc) from exc
    if not container.streams.video and not container.streams.audio:
        container.close()
        raise MediaUnreadableError(f"{p} has no video or audio stream; pass a video or audio file")
    return p, container


def unreadable(path: Path, exc: Exception) -> MediaUnreadableError:
    reason = getattr(exc, "strerror", None) or str(exc)
    hint = "re-export or re-download it"
    if "moov atom not found" in reason:
        hint = "the file is truncated or still being written; re-export or re-download it"
    elif "Invalid data" in reason:
        hint = "it is not a media file ffmpeg can read (wrong extension?); pass a video or audio file"
    return MediaUnreadableError(f"cannot read {path}: {reason}; {hint}")
