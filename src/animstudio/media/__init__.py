"""Media I/O: probe files, decode frames and audio, run ffmpeg, make the sample clip.

    >>> from animstudio.media import probe, iter_frames, decode_audio
    >>> info = probe("clip.mp4"); info.fps, info.frame_count
    >>> for frame in iter_frames("clip.mp4", width=320, fmt="gray"): ...
"""

from __future__ import annotations

import importlib
from typing import Any

from animstudio.media.probe import AudioStreamInfo, MediaInfo, probe, require_video

# decoding needs numpy: loaded on first use, so probing a file does not pay for it
_LAZY = {"decode_audio": "audio", "Frame": "frames", "iter_frames": "frames", "read_frame": "frames"}

__all__ = ["AudioStreamInfo", "Frame", "MediaInfo", "decode_audio", "iter_frames", "probe", "read_frame",
           "require_video"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'animstudio.media' has no attribute {name!r}")
    return getattr(importlib.import_module(f"animstudio.media.{_LAZY[name]}"), name)
