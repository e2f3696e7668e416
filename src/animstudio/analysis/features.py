"""One decode pass: compact per-frame features that every analysis reads.

The video is decoded once (the media frame iterator, one decoder thread per core). The decoding
thread only point-samples each frame's planes; a second thread turns batches of samples into a
handful of small arrays per frame with vectorised numpy (block and thumbnail means as matrix
products, histograms as one bincount). Detectors, camera motion and coherence read these arrays
instead of decoding again.

    >>> feats = extract_features("clip.mp4")
    >>> feats.n, feats.times[:3], feats.blocks.shape        # (N, 9, 16, 3) block mean colours
"""

from __future__ import annotations

import functools
import os
import queue
import threading
from dataclasses import dataclass, field

import numpy as np

from animstudio.media import MediaInfo, iter_frames, probe, require_video
from animstudio.media.ffmpeg import usable_cores
from animstudio.media.frames import sample_planes, sampled_yuv, yuv_to_rgb
from animstudio.media.probe import frame_steps
from animstudio.progress import Progress, ProgressCallback, ignore

WIDTH = 160                      # analysis width; the height keeps the picture's shape
GRID = (9, 16)                   # block grid for block-change measures
THUMB = (15, 20)                 # gray thumbnail for transition fitting
SMALL = 80                       # width of the per-frame feature picture (the kept frames are WIDTH)
MOTION_FPS = 12.0                # frames kept at analysis size for motion and coherence
BATCH = 32                       # frames whose features are computed together


@dataclass
class Features:
    info: MediaInfo
    times: np.ndarray                    # (N,) presentation times, seconds
    blocks: np.ndarray                   # (N, 9, 16, 3) float32 block mean colours, 0-255
    hist: np.ndarray                     # (N, 64) float32 colour histogram, sums to 1
    thumbs: np.ndarray                   # (N, 15, 20) float32 gray thumbnails
    luma: np.ndarray                     # (N,) mean luma
    spread: np.ndarray                   # (N,) luma standard deviation (0: a uniform frame)
    keep: dict[int, np.ndarray] = field(default_factory=dict)   # frame index -> (H, 160, 3) uint8, sampled
    after: dict[int, np.ndarray] = field(default_factory=dict)  # sampled index i -> gray frame i + 1 (H, 160)

    @property
    def n(self) -> int:
        return len(self.times)

    @property
    def fps(self) -> float:
        return float(self.info.fps or self.info.avg_fps or 24.0)


@functools.lru_cache(maxsize=32)
def _pooling(n: int, parts: int) -> np.ndarray:
    """(parts, n) matrix averaging ``n`` samples in ``parts`` equal runs (a remainder is left out);
    built once per size, not per batch (read only)."""
    run = n // parts
    pool = np.zeros((parts, n), np.float32)
    for i in range(parts):
        pool[i, i * run:(i + 1) * run] = 1.0 / run
    pool.flags.writeable = False
    return pool


def _batch_features(rgb: np.ndarray) -> tuple[np.ndarray, ...]:
    """Features of a stack of same-size planar RGB pictures (B, 3, H, W) uint8, all at once: block
    and thumbnail means as matrix products, the histogram as one bincount."""
    n, _, h, w = rgb.shape
    img = rgb.astype(np.float32)
    blocks = np.ascontiguousarray(np.moveaxis(_pooling(h, GRID[0]) @ img @ _pooling(w, GRID[1]).T, 1, -1))
    gray = img[:, 0] * 0.299 + img[:, 1] * 0.587 + img[:, 2] * 0.114
    thumbs = _pooling(h, THUMB[0]) @ gray @ _pooling(w, THUMB[1]).T
    q = rgb >> 6  # 4 levels per channel
    codes = ((q[:, 0] << 4) | (q[:, 1] << 2) | q[:, 2]).reshape(n, -1).astype(np.intp)
    codes += np.arange(n)[:, None] * 64   # one run of 64 bins per picture
    hist = np.bincount(codes.ravel(), minlength=64 * n).reshape(n, 64).astype(np.float32) * (1.0 / (h * w))
    flat = gray.reshape(n, -1)
    return blocks, hist, thumbs, flat.mean(axis=1), flat.std(axis=1)


def _features_of(rows: list[tuple[np.ndarray, bool | None]]) -> list[tuple[np.ndarray, ...]]:
    """Features of consecutive frames, each either sampled YUV planes with its range flag or an RGB
    picture (flag None); runs of the same kind and size are computed together."""
    out = []
    start = 0
    while start < len(rows):
        end = start + 1
        kind, shape = rows[start][1] is None, rows[start][0].shape
        while end < len(rows) and (rows[end][1] is None) == kind and rows[end][0].shape == shape:
            end += 1
        run = np.stack([r[0] for r in rows[start:end]])
        if kind:  # RGB pictures from the scaler
            rgb = np.moveaxis(run, -1, 1)
        else:
            rgb = yuv_to_rgb(run, np.array([r[1] for r in rows[start:end]]), planar=True)
        out.append(_batch_features(rgb))
        start = end
    return out


GRAY = np.array([0.299, 0.587, 0.114], np.float32)


def gray_u8(rgb: np.ndarray) -> np.ndarray:
    """8-bit luma of an RGB picture: how neighbouring frames are stored for coherence."""
    return (rgb @ GRAY).astype(np.uint8)


def _small(source, height: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    return sample_planes(source, SMALL, height)


def _large(source) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The kept copy of a frame, about WIDTH wide."""
    return sample_planes(source, WIDTH)


@dataclass
class Batch:
    """Consecutive frames on their way to the features thread."""
    rows: list[tuple[np.ndarray, bool | None]] = field(default_factory=list)   # samples (see _features_of)
    sources: list[tuple[int, object]] = field(default_factory=list)           # decoded frames to keep


def _timing_of(times: list[float], info: MediaInfo) -> dict[str, object]:
    """Frame count, average rate and VFR as measured by the decode itself (as probe measures them)."""
    vfr, step = frame_steps(sorted(times), tolerance=1e-3)
    span = times[-1] - times[0] + step
    return {"frame_count": len(times), "avg_fps": round(len(times) / span, 6) if span > 0 else info.avg_fps,
            "vfr": vfr}


def _height(info: MediaInfo) -> int:
    w, h = info.display_size or (16, 9)
    return max(2, round(WIDTH * h / w / 2) * 2)


def extract_features(path: str | os.PathLike[str], on_progress: ProgressCallback = ignore,
                     info: MediaInfo | None = None, keep_frames: bool = True, fast_decode: bool = False) -> Features:
    """Decode ``path`` once and compute the per-frame features.

    ``keep_frames=False`` skips the sampled frames that motion, coherence and composition need
    (shot detection alone does not). ``fast_decode`` skips the codec's deblocking filter: about 40 %
    faster on VP8/H.264, every frame still decoded, but gradual-transition spans may move by a frame.
    """
    counted = info is not None
    info = require_video(info or probe(path, count_frames=False))  # the decode below counts the frames
    total = info.frame_count or None
    step = max(1, round((info.fps or 24.0) / MOTION_FPS))
    times: list[float] = []
    parts: list[tuple[np.ndarray, ...]] = []
    keep: dict[int, np.ndarray] = {}
    after: dict[int, np.ndarray] = {}
    small_h = max(2 * THUMB[0], round(_height(info) * SMALL / WIDTH / 2) * 2)
    # The decoding thread only samples each frame (a few thousand pixels); a second thread turns a
    # batch of samples at a time into features, and makes the kept pictures, while decoding goes on.
    pending: queue.Queue[Batch | None] = queue.Queue(maxsize=4)
    failed: list[BaseException] = []

    def work() -> None:
        while (batch := pending.get()) is not None:
            if failed:
                continue  # keep draining so the decoder never blocks
            try:
                parts.extend(_features_of(batch.rows))
                for index, source in batch.sources:
                    if index % step == 0:
                        keep[index] = _large(source)
                    elif (index - 1) in keep:  # its successor: coherence compares neighbours
                        after[index - 1] = gray_u8(_large(source))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                failed.append(exc)

    worker = threading.Thread(target=work, name="features", daemon=True)
    worker.start()
    batch = Batch()
    try:
        for frame in iter_frames(path, fast=True, keep_source=True, images=False, skip_loop_filter=fast_decode,
                                 threads=usable_cores()):
            source = frame.source
            sampled = sampled_yuv(source, SMALL)  # type: ignore[arg-type]
            batch.rows.append(sampled if sampled is not None else (_small(source, small_h), None))
            if keep_frames and (frame.index % step == 0 or frame.index % step == 1):
                batch.sources.append((frame.index, source))
            times.append(frame.time_s)
            if len(batch.rows) == BATCH:
                pending.put(batch)
                batch = Batch()
            if frame.index % 24 == 0:
                on_progress(Progress("decode", frame.index + 1, total, "frames"))
        if batch.rows:
            pending.put(batch)
    finally:
        pending.put(None)
        worker.join()
    if failed:
        raise failed[0]
    on_progress(Progress("decode", len(times), total or len(times), "frames"))
    n = len(times)
    if not counted and n:
        info = info.model_copy(update=_timing_of(times, info))
    def joined(i: int, *shape: int) -> np.ndarray:
        if not parts:
            return np.zeros((0, *shape), np.float32)
        return np.concatenate([p[i] for p in parts]).astype(np.float32, copy=False)

    return Features(info=info, times=np.array(times), blocks=joined(0, *GRID, 3), hist=joined(1, 64),
                    thumbs=joined(2, *THUMB), luma=joined(3), spread=joined(4), keep=keep, after=after)
