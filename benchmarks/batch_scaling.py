"""Batch scaling: a batch of analyses on the local executor against Ray with two workers, in one run.

The batch is the shared clips, each several times under other names (16 videos by default), analysed
as `animstudio analyze batch` does (everything `analyze all` gives, one task per video). Ray runs on a
cluster this script starts on this machine (a head and one worker node, one CPU each: two workers),
or on the cluster at --address. Also measured: what Ray adds to one task (a task that does nothing,
sent and waited for one at a time, against calling it here).

    python benchmarks/batch_scaling.py [--videos 16] [--address HOST:PORT]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "video"


def nothing(_: object) -> None:
    return None


def batch_folder(count: int, into: Path) -> Path:
    clips = sorted(p for p in SHARED.iterdir() if p.suffix in (".mp4", ".webm"))
    if not clips:
        raise SystemExit(f"no clips in {SHARED}")
    folder = into / "videos"
    folder.mkdir()
    for i in range(count):
        source = clips[i % len(clips)]
        (folder / f"{i:02d}-{source.name}").symlink_to(source)
    return folder


def timed_batch(videos: Path, out: Path, executor: str) -> float:
    from animstudio.analysis.batch import AnalysisBatchRequest, analyze_batch

    started = time.perf_counter()
    done = analyze_batch(AnalysisBatchRequest(files=[str(videos)], output=str(out), executor=executor))
    assert done.made == len(list(videos.iterdir())), done
    return time.perf_counter() - started


def overhead_ms(executor: object, rounds: int) -> float:
    """Median time of one no-op task sent and waited for, less calling it here."""
    executor.map(nothing, [None])                  # workers started
    spent = []
    for _ in range(rounds):
        started = time.perf_counter()
        executor.map(nothing, [None])
        spent.append(time.perf_counter() - started)
    here = []
    for _ in range(rounds):
        started = time.perf_counter()
        nothing(None)
        here.append(time.perf_counter() - started)
    return (statistics.median(spent) - statistics.median(here)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=16, help="videos in the batch")
    parser.add_argument("--address", default=None, help="a Ray cluster's head (default: start one here)")
    parser.add_argument("--rounds", type=int, default=50, help="no-op tasks timed for the overhead")
    args = parser.parse_args()

    from animstudio.jobs.ray_executor import RayExecutor
    from animstudio.testing.ray_cluster import ray_cluster

    with tempfile.TemporaryDirectory() as tmp:
        videos = batch_folder(args.videos, Path(tmp))
        local_s = timed_batch(videos, Path(tmp) / "local", "local")
        print(f"local executor: {args.videos} videos in {local_s:.1f} s", flush=True)
        started = time.perf_counter()
        with (contextlib.nullcontext(args.address) if args.address else ray_cluster(workers=1, cpus=1)) as address:
            import os

            os.environ["ANIMSTUDIO_RAY__ADDRESS"] = address
            ray = RayExecutor(address=address)
            ray.map(nothing, [None, None])
            print(f"ray cluster at {address} ready in {time.perf_counter() - started:.1f} s", flush=True)
            ray_s = timed_batch(videos, Path(tmp) / "ray", "ray")
            print(f"ray executor: {args.videos} videos in {ray_s:.1f} s", flush=True)
            per_task = overhead_ms(ray, args.rounds)
            import ray as ray_module

            workers = int(ray_module.cluster_resources().get("CPU", 0))
            ray_module.shutdown()
    print(f"RESULT batch_local_s {local_s:.1f} s goal reference")
    print(f"RESULT batch_ray_s {ray_s:.1f} s goal less ({workers} workers)")
    print(f"RESULT ray_speedup {local_s / ray_s:.2f} x goal >1 ({workers} workers)")
    print(f"RESULT ray_overhead_per_task {per_task:.1f} ms goal less")


if __name__ == "__main__":
    sys.exit(main())
