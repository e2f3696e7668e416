"""One decode pass: compact per-frame features that every analysis reads.

The video is decoded once at low resolution (the media frame iterator, threaded); each frame is
turned into a handful of small arrays with vectorised numpy. Detectors, camera motion and
coherence read these arrays instead of decoding again.

    >>> feats = extract_features("clip.mp4")
    >>> feats.n, feats.times[:3], feats.blocks.shape        # (N, 9, 16, 3) block mean colours
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass, field

import numpy as np

from animstudio.media import MediaInfo, iter_frames, probe, require_video
from animstudio.media.probe import frame_steps
from animstudio.progress import Progress, ProgressCallback, ignore

WIDTH = 160                      # analysis width; the height keeps the picture's shape
GRID = (9, 16)                   # block grid for block-change measures
THUMB = (15, 20)                 # gray thumbnail for transition fitting
SMALL = 80                       # width of the per-frame feature picture (the kept frames are WIDTH)
MOTION_FPS = 12.0                # frames kept at analysis size for motion and coherence


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


def _frame_features(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    img = rgb.astype(np.float32)
    h, w, _ = img.shape
    gh, gw = GRID
    bh, bw = h // gh, w // gw
    blocks = img[: bh * gh, : bw * gw].reshape(gh, bh, gw, bw, 3).sum(axis=(1, 3)) * (1.0 / (bh * bw))
    gray = img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114
    th, tw = THUMB
    ph, pw = h // th, w // tw
    thumb = gray[: ph * th, : pw * tw].reshape(th, ph, tw, pw).sum(axis=(1, 3)) * (1.0 / (ph * pw))
    q = rgb >> 6  # 4 levels per channel
    codes = (q[..., 0] << 4) | (q[..., 1] << 2) | q[..., 2]
    hist = np.bincount(codes.ravel(), minlength=64).astype(np.float32) * (1.0 / codes.size)
    return blocks, hist, thumb, float(gray.mean()), float(gray.std())


GRAY = np.array([0.299, 0.587, 0.114], np.float32)


def gray_u8(rgb: np.ndarray) -> np.ndarray:
    """8-bit luma of an RGB picture: how neighbouring frames are stored for coherence."""
    return (rgb @ GRAY).astype(np.uint8)


def _small(source, height: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    from animstudio.media.frames import sample_planes

    return sample_planes(source, SMALL, height)


def _large(source) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The kept copy of a frame, about WIDTH wide."""
    from animstudio.media.frames import sample_planes

    return sample_planes(source, WIDTH)


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
    times, blocks, hists, thumbs, luma, spread = [], [], [], [], [], []
    keep: dict[int, np.ndarray] = {}
    after: dict[int, np.ndarray] = {}
    small_h = max(2 * THUMB[0], round(_height(info) * SMALL / WIDTH / 2) * 2)
    # The decoder's own threads leave CPU time over: a second thread turns each decoded frame into
    # pictures and features meanwhile. Only that thread touches a frame once it is queued.
    pending: queue.Queue[tuple[int, object] | None] = queue.Queue(maxsize=16)
    failed: list[BaseException] = []

    def work() -> None:
        while (item := pending.get()) is not None:
            if failed:
                continue  # keep draining so the decoder never blocks
            index, source = item
            try:
                b, h, t, m, s = _frame_features(_small(source, small_h))
                if keep_frames and index % step == 0:
                    keep[index] = _large(source)
                elif keep_frames and (index - 1) in keep:  # its successor: coherence compares neighbours
                    after[index - 1] = gray_u8(_large(source))
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                failed.append(exc)
                continue
            blocks.append(b)
            hists.append(h)
            thumbs.append(t)
            luma.append(m)
            spread.append(s)

    worker = threading.Thread(target=work, name="features", daemon=True)
    worker.start()
    try:
        for frame in iter_frames(path, width=SMALL, height=small_h, fmt="rgb24", fast=True, keep_source=True,
                                 images=False, skip_loop_filter=fast_decode):
            pending.put((frame.index, frame.source))
            times.append(frame.time_s)
            if frame.index % 24 == 0:
                on_progress(Progress("decode", frame.index + 1, total, "frames"))
    finally:
        pending.put(None)
        worker.join()
    if failed:
        raise failed[0]
    on_progress(Progress("decode", len(times), total or len(times), "frames"))
    n = len(times)
    if not counted and n:
        info = info.model_copy(update=_timing_of(times, info))
    return Features(info=info, times=np.array(times), blocks=np.array(blocks, np.float32).reshape(n, *GRID, 3),
                    hist=np.array(hists, np.float32).reshape(n, 64), thumbs=np.array(thumbs, np.float32),
                    luma=np.array(luma, np.float32), spread=np.array(spread, np.float32), keep=keep,
                    after=after)
