"""Media I/O: probe files, decode frames and audio, run ffmpeg, make the sample clip.

    >>> from animstudio.media import probe, iter_frames, decode_audio
    >>> info = probe("clip.mp4"); info.fps, info.frame_count
    >>> for frame in iter_frames("clip.mp4", width=320, fmt="gray"): ...
"""

from animstudio.media.audio import decode_audio
from animstudio.media.frames import Frame, iter_frames, read_frame
from animstudio.media.probe import AudioStreamInfo, MediaInfo, probe, require_video

__all__ = ["AudioStreamInfo", "Frame", "MediaInfo", "decode_audio", "iter_frames", "probe", "read_frame",
           "require_video"]
