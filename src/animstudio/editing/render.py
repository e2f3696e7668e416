"""Render a timeline: checked first, then segment by segment through ffmpeg, mixed, normalised, muxed.

Runs of clips joined by transitions render as their own small filter graphs (memory stays low
whatever the timeline's length); their files join without re-encoding. The audio is mixed in one
graph, measured, and normalised to the loudness target while the final file is muxed. The output
appears only when everything succeeded (a temp file renamed), also on Ctrl-C or a cancel.

    >>> render("cut.otio", "cut.mp4", preset="draft", on_progress=print)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import opentimelineio as otio

from animstudio.editing.formats import Captions, Preset, check_preset, encoder_args
from animstudio.editing.render_plan import Plan, make_plan
from animstudio.editing.schema import CAPTION_SIZE
from animstudio.errors import CancelledError
from animstudio.files import atomic_output, check_output_path
from animstudio.media.ffmpeg import run_ffmpeg, usable_cores
from animstudio.progress import Progress, ProgressCallback, ignore

LONGEST_SEGMENT_S = 60.0   # a segment is the timeline shared out between the workers, at most this long


@dataclass
class RenderResult:
    path: Path
    duration_s: float
    frames: int
    segments: int
    sidecars: list[Path]
    loudness: float | None        # integrated LUFS measured before normalisation


def _timeline(source: str | os.PathLike[str] | otio.schema.Timeline) -> otio.schema.Timeline:
    if isinstance(source, otio.schema.Timeline):
        return source
    from animstudio.editing.timeline import Edit

    return Edit.load(source).timeline


def _grade(plan: Plan) -> list[str]:
    out = plan.output
    if not out.styles and not out.lut:
        return []
    from animstudio.config import load_settings
    from animstudio.editing.style_presets import style_filters

    cache = load_settings().home / "cache" / "luts"
    return style_filters(out.styles, out.width, out.height, cache, lut=out.lut)


def _cues(plan: Plan, burn: bool = False) -> list:  # type: ignore[type-arg]
    """The captions as cues on frame boundaries; for burning in, each time is also floored to the
    centisecond (ASS's unit), which keeps the first and last frames of every cue exact."""
    import math

    from animstudio.media.subtitles import Cue

    fps = plan.output.fps

    def t(x: float) -> float:
        snapped = round(x * fps) / fps
        return math.floor(snapped * 100 + 1e-6) / 100 if burn else round(snapped, 3)

    cues = []
    for a, b, c in sorted(plan.captions, key=lambda x: x[0]):
        words = [w.model_copy(update={"start_s": t(w.start_s), "end_s": max(t(w.end_s), t(w.start_s))})
                 for w in c.words]
        cues.append(Cue(t(a), t(b), c.text, words))
    return cues


AUDIO_WEIGHT = 0.1   # the audio's mix and its encode, each against the video of the same length


class _Work:
    """The parallel parts of one render: they share a stop signal, so the first failure (or the
    caller's cancel) stops the others, and a progress total."""

    def __init__(self, total_s: float, on_progress: ProgressCallback, cancel: threading.Event | None) -> None:
        self.stop = threading.Event()
        self.total_s = total_s
        self.on_progress = on_progress
        self.cancel = cancel
        self.done: dict[str, float] = {}
        self.lock = threading.Lock()

    def progress(self, key: str, seconds: float) -> None:
        """Seconds of output done by one part of the work: the video segments (together the whole
        timeline) and the audio's mix and encode (each the whole timeline, quicker: a small weight)."""
        weight = AUDIO_WEIGHT if key in ("mix", "audio") else 1.0
        with self.lock:
            self.done[key] = weight * min(seconds, self.total_s)
            whole = self.total_s * (1 + 2 * AUDIO_WEIGHT)
            done = min(whole, sum(self.done.values()))
            # reported under the lock: events from the parallel parts arrive in order
            self.on_progress(Progress("render", done * self.total_s / whole if whole else 0.0, self.total_s, "s"))

    def run(self, args: list[str], seconds: float, key: str, task: str) -> None:
        if self.cancel is not None and self.cancel.is_set():
            self.stop.set()
        if self.stop.is_set():
            raise CancelledError(f"{task} was cancelled")
        run_ffmpeg(args, duration_s=seconds, cancel=self.stop, task=task,
                   on_progress=lambda e: self.progress(key, e.done))

    def watch_cancel(self) -> None:
        while self.cancel is not None and not self.stop.is_set():
            if self.cancel.wait(0.2):
                self.stop.set()


def _audio(plan: Plan, work: Path, audio_enc: list[str], suffix: str, w: _Work) -> tuple[Path, float | None]:
    """Mix, measure, and encode the normalised audio track (runs beside the video segments)."""
    from animstudio.editing.mix import gain_filter, measure_loudness, mix_args

    mix = work / "mix.wav"
    w.run(mix_args(plan, mix), plan.duration_s, "mix", "mix audio")
    loudness = None
    gain = "anull"
    if plan.output.loudness is not None:
        measured = measure_loudness(mix)
        loudness = measured.integrated
        gain = gain_filter(plan.output.loudness, measured)
    audio = work / f"audio{suffix}"
    w.run(["-i", str(mix), "-af", gain, *audio_enc, "-ar", str(plan.output.sample_rate), str(audio)],
          plan.duration_s, "audio", "encode audio")
    return audio, loudness


def _spreading(executor: str | None) -> Any:
    """The executor the segments are spread over, or None to render them here."""
    from animstudio.config import load_settings

    name = executor or load_settings().executor
    if name == "local":
        return None
    from animstudio.jobs.executor import get_executor

    return get_executor(name)


def render_segment(task: dict[str, Any]) -> str:
    """One video segment through ffmpeg (the task an executor runs, wherever it runs), written under a
    name of its own and renamed: a try whose worker died may leave an ffmpeg writing, never into it."""
    import uuid

    final = Path(task["file"])
    part = final.with_name(f"{final.stem}.{uuid.uuid4().hex[:8]}.part{final.suffix}")
    run_ffmpeg([str(part) if a == task["file"] else a for a in task["args"]], duration_s=task["seconds"],
               task=task["task"])
    os.replace(part, final)
    return task["file"]


def _segment_tasks(plan: Plan, segments: list, work: Path, seg_suffix: str,  # type: ignore[type-arg]
                   video_enc: list[str], grade: Any, ass: Path | None, side_by_side: bool) -> list[dict[str, Any]]:
    """Each video segment's ffmpeg arguments, its length, its file and its names, in timeline order."""
    from animstudio.editing.graph import segment_args

    fps = plan.output.fps
    tasks = []
    for i, pieces in enumerate(segments):
        seg_file = work / f"segment-{i:04d}{seg_suffix}"
        burn = None
        if ass is not None:
            from animstudio.editing.burn_in import burn_filter

            burn = burn_filter(ass, offset_s=pieces[0].out_start / fps)
        tasks.append({"args": segment_args(plan, pieces, work, seg_file, video_enc, grade, burn,
                                           single_thread=side_by_side),
                      "seconds": sum(p.out_frames for p in pieces) / fps, "file": str(seg_file),
                      "task": f"render segment {i + 1}/{len(segments)}", "key": f"video{i}"})
    return tasks


def render(timeline: str | os.PathLike[str] | otio.schema.Timeline, output: str | os.PathLike[str],
           preset: Preset = "medium", captions: Captions = "both", on_progress: ProgressCallback = ignore,
           cancel: threading.Event | None = None, segment_s: float | None = None,
           jobs: int | None = None, caption_size: float = CAPTION_SIZE, executor: str | None = None) -> RenderResult:
    """Render ``timeline`` (an OTIO timeline or a file OTIO reads) to ``output`` (.mp4 or .webm).

    Captions are burnt in (``caption_size``: their line height, a fraction of the picture's)
    and/or written beside as an .srt, as ``captions`` says.

    Segments render ``jobs`` at a time (default: one per core) while the audio is mixed beside them;
    by default each worker gets one segment of equal length (up to a minute; longer timelines get
    more), the fewest processes for a balanced load. With an ``executor`` other than ``local`` (default:
    the ``executor`` setting) the segments are its tasks, one per worker of the cluster, which must
    read the media and write beside ``output`` on storage they share; the audio is mixed here.
    """
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    from animstudio.jobs.executor import Resources

    out_path = check_output_path(output, "rendered video")
    check_preset(preset)
    plan = make_plan(_timeline(timeline))     # every clip, file and range checked before anything renders
    fps = plan.output.fps
    video_enc, audio_enc, seg_suffix = encoder_args(out_path.suffix.lower(), preset, fps)
    grade = _grade(plan)
    spread = _spreading(executor)
    jobs = max(1, jobs or (spread.slots() if spread else usable_cores()))
    work = Path(tempfile.mkdtemp(prefix=".render-", dir=out_path.parent)).resolve()   # workers elsewhere read it
    w = _Work(plan.duration_s, on_progress, cancel)
    pool = ThreadPoolExecutor(max_workers=jobs + 2, thread_name_prefix="render")
    try:
        cues = _cues(plan) if captions != "none" else []
        ass = None
        if cues and captions in ("both", "burn"):
            from animstudio.editing.burn_in import write_ass

            ass = write_ass(_cues(plan, burn=True), work / "captions.ass", plan.output.width, plan.output.height,
                            size=caption_size, karaoke=any(c.words for c in cues))
        if segment_s is None:
            rounds = max(1, -(-plan.duration_s // (jobs * LONGEST_SEGMENT_S)))   # ceil
            segment_s = max(2.0, plan.duration_s / (jobs * rounds))
        segments = plan.segments(max_frames=round(segment_s * fps) + 1)
        side_by_side = jobs > 1 and len(segments) >= jobs
        if side_by_side and seg_suffix == ".mp4":
            # one x264 thread per segment when segments fill the cores: no frame-thread overhead
            video_enc = [*video_enc, "-threads", "1"]
        pool.submit(w.watch_cancel)
        audio_job = pool.submit(_audio, plan, work, audio_enc, ".m4a" if seg_suffix == ".mp4" else ".webm", w)
        slots = threading.Semaphore(jobs)   # the audio thread runs beside ``jobs`` video segments
        tasks = _segment_tasks(plan, segments, work, seg_suffix, video_enc, grade, ass, side_by_side)

        def segment(task: dict[str, Any]) -> None:
            with slots:
                w.run(task["args"], task["seconds"], task["key"], task["task"])

        # longest first: the last segment to start is a short one, so no core idles long at the end
        order = sorted(tasks, key=lambda t: -t["seconds"])
        if spread is not None:     # the cluster's workers: the progress of each as it comes back
            video_jobs = [pool.submit(spread.map, render_segment, order, Resources(cpus=1),
                                      lambda i, _: w.progress(order[i]["key"], order[i]["seconds"]), w.stop)]
        else:
            video_jobs = [pool.submit(segment, task) for task in order]
        wait([*video_jobs, audio_job], return_when=FIRST_EXCEPTION)
        failed = [j.exception() for j in (*video_jobs, audio_job) if j.done() and j.exception() is not None]
        if failed:   # stop every other ffmpeg; report the first real failure, not the stops it caused
            w.stop.set()
            raise next((e for e in failed if not isinstance(e, CancelledError)), failed[0])
        parts = [work / f"segment-{i:04d}{seg_suffix}" for i in range(len(segments))]
        audio, loudness = audio_job.result()
        listing = work / "segments.txt"
        listing.write_text("".join(f"file '{p.name}'\n" for p in parts), encoding="utf-8")
        with atomic_output(out_path, "rendered video") as tmp:
            mux = ["-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(audio), "-map", "0:v:0",
                   "-map", "1:a:0", "-c", "copy", "-t", f"{plan.duration_s:.6f}"]
            if seg_suffix == ".mp4":
                mux += ["-movflags", "+faststart"]
            run_ffmpeg([*mux, "-f", "mp4" if seg_suffix == ".mp4" else "webm", str(tmp)], cancel=cancel, task="mux")
        sidecars = []
        if cues and captions in ("both", "sidecar"):  # written once the video is there
            from animstudio.media.subtitles import write_srt

            sidecars.append(write_srt(cues, out_path.with_suffix(".srt")))
        on_progress(Progress("render", plan.duration_s, plan.duration_s, "s"))
        return RenderResult(out_path, plan.duration_s, plan.frames, len(segments), sidecars, loudness)
    finally:
        w.stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(work, ignore_errors=True)

