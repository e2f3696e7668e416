"""Decode audio to a float32 numpy array at the sample rate you ask for.

    >>> samples, rate = decode_audio("clip.mp4", sample_rate=16000)   # mono, (n,)
    >>> stereo, _ = decode_audio("clip.mp4", mono=False)                # (2, n)
"""

from __future__ import annotations

import os

import av
import numpy as np

from animstudio.errors import InvalidInputError
from animstudio.media.open import open_media, unreadable


def decode_audio(path: str | os.PathLike[str], sample_rate: int = 16000, mono: bool = True,
                 start_s: float = 0.0, end_s: float | None = None, stream_index: int = 0) -> tuple[np.ndarray, int]:
    """Samples in [-1, 1]: shape (n,) when ``mono``, else (channels, n)."""
    p, container = open_media(path)
    with container:
        if len(container.streams.audio) <= stream_index:
            raise InvalidInputError(f"{p} has no audio stream{' #' + str(stream_index) if stream_index else ''}; "
                                    f"pass a file with sound")
        stream = container.streams.audio[stream_index]
        layout = "mono" if mono else (stream.codec_context.layout.name or "stereo")
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
        chunks: list[np.ndarray] = []
        first_time: float | None = None
        origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        try:
            if start_s > 0:
                container.seek(int((start_s + origin) / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                if first_time is None:
                    first_time = (frame.time or 0.0) - origin
                chunks.extend(out.to_ndarray() for out in resampler.resample(frame))
            chunks.extend(out.to_ndarray() for out in resampler.resample(None))
        except av.error.FFmpegError as exc:
            raise unreadable(p, exc) from exc
    channels = 1 if mono else len(av.AudioLayout(layout).channels)
    data = np.concatenate(chunks, axis=1) if chunks else np.zeros((channels, 0), np.float32)
    if first_time is not None:  # the seek lands at or before start_s; a stream may also start late
        skip = int(round((start_s - first_time) * sample_rate))
        if skip > 0:
            data = data[:, skip:]
        elif skip < 0 and start_s == 0:  # audio starting after 0: pad so sample n is at n / rate
            data = np.concatenate([np.zeros((data.shape[0], -skip), np.float32), data], axis=1)
    if end_s is not None:
        data = data[:, : max(0, int(round((end_s - start_s) * sample_rate)))]
    data = np.ascontiguousarray(data, dtype=np.float32)
    return (data[0] if mono else data), sample_rate
