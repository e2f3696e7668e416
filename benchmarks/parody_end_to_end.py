"""A 30 s clip to a finished parody on this machine with the embedded models (the default LLM,
Piper, Whisper): time per step and in total. Goal on 2 cores: under 5 minutes in total.

    python benchmarks/parody_end_to_end.py                       # Big Buck Bunny 0-30 s from ../shared/data
    python benchmarks/parody_end_to_end.py clip.mp4 --model smollm2-135m-instruct
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

CLIP = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "video" / "big_buck_bunny_0_30.webm"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clip", nargs="?", default=str(CLIP), help="the clip (default: Big Buck Bunny 0-30 s)")
    parser.add_argument("--model", default=None, help="catalog LLM (default: the configured one)")
    args = parser.parse_args()
    from animstudio.jobs import JobStore, run, submit

    with tempfile.TemporaryDirectory() as tmp:
        store = JobStore(Path(tmp) / "jobs")
        start = time.perf_counter()
        job = submit("parody", {"clip": args.clip, "model": args.model, "output": str(Path(tmp) / "out")}, store)
        job = run(job.id, store)
        total = time.perf_counter() - start
        if job.status != "done":
            raise SystemExit(f"the job ended {job.status}: {job.error}")
        print(f"{'step':10} {'seconds':>8}")
        for step in job.steps:
            print(f"{step.name:10} {step.seconds:8.1f}")
        lines = next(s for s in job.steps if s.name == "voices").outputs
        print(f"{lines['lines']} lines, {lines['failed']} failed the hearing check")
        for step in job.steps:
            print(f"RESULT parody_step_{step.name}_s {step.seconds:.1f} s goal none")
        print(f"RESULT parody_total_s {total:.1f} s goal 300")


if __name__ == "__main__":
    main()
