"""Media I/O: probe files, decode frames and audio, run ffmpeg, read and write subtitle files, make the
sample clip.

    >>> from animstudio.media import probe, iter_frames, decode_audio
    >>> info = probe("clip.mp4"); info.fps, info.frame_count
    >>> for frame in iter_frames("clip.mp4", width=320, fmt="gray"): ...
"""

from __future__ import annotations

from animstudio.lazy import lazy_exports
from animstudio.media.probe import AudioStreamInfo as AudioStreamInfo
from animstudio.media.probe import MediaInfo as MediaInfo
from animstudio.media.probe import probe as probe  # the function, not its module
from animstudio.media.probe import require_video as require_video

# decoding needs numpy: loaded on first use, so probing a file does not pay for it
_LAZY: dict[str, str | tuple[str, str]] = {
    "decode_audio": "audio", "Frame": "frames", "iter_frames": "frames", "read_frame": "frames",
    **{name: "subtitles" for name in ("Cue", "Word", "read_subtitles", "write_srt", "write_vtt", "shift")},
}
__getattr__, __dir__, _lazy_names = lazy_exports(__name__, _LAZY)
__all__ = sorted([*_lazy_names, "AudioStreamInfo", "MediaInfo", "probe", "require_video"])
