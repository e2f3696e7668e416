"""The ffmpeg runner: the packaged binary, progress in seconds, stderr in errors, cancellation."""

from __future__ import annotations

import threading

import pytest

from animstudio.errors import CancelledError, FFmpegError
from animstudio.media import probe
from animstudio.media.ffmpeg import ffmpeg_exe, ffmpeg_filters, run_ffmpeg


def test_uses_the_packaged_binary():
    assert "imageio_ffmpeg" in ffmpeg_exe()
    assert {"xfade", "subtitles", "loudnorm", "lut3d", "drawtext"} <= ffmpeg_filters()


def test_progress_reaches_the_end(tmp_path, sample_clip):
    clip, truth = sample_clip
    events = []
    out = tmp_path / "small.mp4"
    run_ffmpeg(["-i", str(clip), "-vf", "scale=320:-2", "-c:v", "libx264", "-preset", "ultrafast", str(out)],
               duration_s=truth["duration_s"], on_progress=events.append, task="scale")
    assert events and events[-1].fraction == 1.0
    assert all(e.task == "scale" and e.unit == "s" for e in events)
    assert probe(out).width == 320 and probe(out).frame_count == truth["frame_count"]


def test_error_carries_stderr_tail(tmp_path, sample_clip):
    clip, _ = sample_clip
    with pytest.raises(FFmpegError, match="No such filter"):
        run_ffmpeg(["-i", str(clip), "-vf", "notafilter", str(tmp_path / "x.mp4")], task="bad filter")


def test_cancel_stops_ffmpeg(tmp_path):
    cancel = threading.Event()
    timer = threading.Timer(0.5, cancel.set)
    timer.start()
    with pytest.raises(CancelledError):
        # an endless test pattern: only the cancel can end it
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "null", "-"], cancel=cancel,
                   task="endless")
