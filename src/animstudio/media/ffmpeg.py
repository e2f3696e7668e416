"""Run the ffmpeg binary that imageio-ffmpeg ships (never a system ffmpeg), with progress and cancel.

    >>> run_ffmpeg(["-i", "in.mp4", "-vf", "scale=320:-2", "out.mp4"], duration_s=12.0,
    ...            on_progress=print, cancel=threading.Event())
"""

from __future__ import annotations

import collections
import functools
import os
import re
import subprocess
import threading
from collections.abc import Iterable

from animstudio.errors import CancelledError, FFmpegError, MissingDependencyError
from animstudio.progress import Progress, ProgressCallback, ignore


@functools.cache
def usable_cores() -> int:
    """CPU cores this process may run on (decoder threads, parallel renders)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # a base dependency: only a broken install lacks it
        raise MissingDependencyError("ffmpeg comes from the Python package 'imageio-ffmpeg', which is not "
                                     "installed: pip install imageio-ffmpeg") from exc
    return imageio_ffmpeg.get_ffmpeg_exe()


@functools.cache
def ffmpeg_version() -> str:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, text=True).stdout
    match = re.match(r"ffmpeg version (\S+)", out)
    return match.group(1) if match else "unknown"


@functools.cache
def ffmpeg_filters() -> frozenset[str]:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-filters"], capture_output=True, text=True).stdout
    return frozenset(m.group(1) for m in re.finditer(r"^ [.A-Z|]{2,3} (\w+)\s", out, re.M))


@functools.cache
def ffmpeg_encoders() -> frozenset[str]:
    out = subprocess.run([ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True).stdout
    return frozenset(m.group(1) for m in re.finditer(r"^ [VAS][.A-Z]{5} (\S+)", out, re.M))


def run_ffmpeg(args: list[str], duration_s: float | None = None, on_progress: ProgressCallback = ignore,
               cancel: threading.Event | None = None, task: str = "ffmpeg",
               stdin_chunks: Iterable[bytes] | None = None) -> None:
    """Run ffmpeg with ``args``; progress in seconds of output; ``cancel`` stops it and raises.

    ``stdin_chunks`` streams raw input (``-i -``) from a thread, e.g. frames rendered in Python.
    On failure the error carries the last lines ffmpeg wrote to stderr.
    """
    cmd = [ffmpeg_exe(), "-hide_banner", *(["-nostdin"] if stdin_chunks is None else []), "-y",
           "-progress", "pipe:1", "-nostats", "-loglevel", "error", *args]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin_chunks is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    tail: collections.deque[str] = collections.deque(maxlen=20)
    feed_error: list[BaseException] = []

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in iter(proc.stderr.readline, b""):
            tail.append(line.decode("utf-8", "replace").rstrip())

    def feed() -> None:
        assert proc.stdin is not None and stdin_chunks is not None
        try:
            for chunk in stdin_chunks:
                if cancel is not None and cancel.is_set():
                    break
                proc.stdin.write(chunk)
        except BrokenPipeError:
            pass  # ffmpeg stopped; its stderr says why
        except BaseException as exc:  # an error in the frame producer
            feed_error.append(exc)
            proc.kill()
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass

    threads = [threading.Thread(target=read_stderr, daemon=True)]
    if stdin_chunks is not None:
        threads.append(threading.Thread(target=feed, daemon=True))
    for t in threads:
        t.start()
    stopper = None
    if cancel is not None:
        def watch() -> None:
            while proc.poll() is None:
                if cancel.wait(0.2):
                    proc.terminate()
                    return
        stopper = threading.Thread(target=watch, daemon=True)
        stopper.start()
    assert proc.stdout is not None
    try:
        for raw in iter(proc.stdout.readline, b""):
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit():
                on_progress(Progress(task, max(0, int(value)) / 1e6, duration_s, "s"))
        code = proc.wait()
    finally:  # an interrupt or a failing progress callback must not leave ffmpeg running
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for t in threads:
        t.join(timeout=5)
    if feed_error:
        raise feed_error[0]
    if cancel is not None and cancel.is_set():
        raise CancelledError(f"{task} was cancelled")
    if code != 0:
        lines = [line for line in tail if line.strip()]
        detail = " | ".join(lines[-3:]) or f"exit code {code}"
        raise FFmpegError(f"ffmpeg failed during {task}: {detail}")
    if duration_s:
        on_progress(Progress(task, duration_s, duration_s, "s"))
