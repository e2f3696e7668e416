"""Voice dataset speed: seconds to build a dataset per minute of film audio, on this machine's CPU.

The input is made here: about 80 s of dialogue from the shared speech recordings (LJ Speech's
reader, JFK, and the two voices of the stereo diarization clip: four speakers) with pauses of
0.4-1.0 s between lines, encoded as 48 kHz stereo AAC like a film's soundtrack. The build runs
in a fresh process, so the figure includes loading the models (VAD, speaker encoder, whisper
base): what one run of `animstudio voice dataset` costs. Also printed: how many speakers were
found (4 are there) and the share of kept clip time given to the right speaker.

    python benchmarks/voice_dataset_speed.py            # ends with RESULT lines
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SPEECH = ROOT.parent / "shared" / "data" / "speech"
RATE = 16000

BUILD = """
import json, sys, time
from animstudio.voice.dataset import build_dataset
t0 = time.perf_counter()
report = build_dataset(sys.argv[1], sys.argv[2], language="en")
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "report": report.to_json()}))
"""


def make_input(work: Path) -> tuple[Path, list[tuple[str, float, float]]]:
    """About 80 s of four speakers taking turns, as 48 kHz stereo AAC; and who speaks when."""
    from animstudio.media import decode_audio
    from animstudio.media.ffmpeg import run_ffmpeg

    def load(path: Path) -> np.ndarray:
        return decode_audio(path, RATE)[0]

    lj = [load(p) for p in sorted((SPEECH / "ljspeech" / "wavs").glob("*.wav"))]
    jfk = load(SPEECH / "faster_whisper" / "jfk.flac")
    left = load(SPEECH / "faster_whisper" / "derived_stereo_diarization_left.wav")[4000:78000]
    right = load(SPEECH / "faster_whisper" / "derived_stereo_diarization_right.wav")[4000:37000]
    lines = [("lj", lj[0]), ("left", left), ("jfk", jfk[:37000]), ("lj", lj[1]), ("right", right),
             ("lj", lj[2]), ("jfk", jfk[37000:]), ("left", left), ("lj", lj[3]), ("right", right), ("lj", lj[4]),
             ("left", left), ("lj", lj[5])]
    rng = np.random.default_rng(7)
    parts, truth, t = [], [], 0.0
    for who, samples in lines:
        pause = np.zeros(int(rng.uniform(0.4, 1.0) * RATE), np.float32)
        parts += [pause, samples]
        t += len(pause) / RATE
        truth.append((who, t, t + len(samples) / RATE))
        t += len(samples) / RATE
    parts.append(np.zeros(RATE // 2, np.float32))
    wav = work / "dialogue.wav"
    with wave.open(str(wav), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(RATE)
        wf.writeframes((np.clip(np.concatenate(parts), -1, 1) * 32767).astype("<i2").tobytes())
    film = work / "dialogue.m4a"
    run_ffmpeg(["-i", str(wav), "-ar", "48000", "-ac", "2", "-c:a", "aac", "-b:a", "160k", str(film)])
    return film, truth


def purity(clips: list[dict], truth: list[tuple[str, float, float]]) -> float:
    """Share of kept clip time whose true speaker is the one most of that cluster's time belongs to."""
    time_by: dict[tuple[str, str], float] = {}
    for c in clips:
        for who, a, b in truth:
            overlap = max(0.0, min(b, c["end_s"]) - max(a, c["start_s"]))
            if overlap:
                time_by[(c["speaker"], who)] = time_by.get((c["speaker"], who), 0.0) + overlap
    total = sum(time_by.values())
    best = sum(max(v for (s, _), v in time_by.items() if s == speaker) for speaker in {s for s, _ in time_by})
    return best / total if total else 0.0


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    if not SPEECH.is_dir():
        raise SystemExit(f"shared speech recordings not found at {SPEECH}")
    with tempfile.TemporaryDirectory(prefix="animstudio-bench-") as tmp:
        work = Path(tmp)
        film, truth = make_input(work)
        minutes = truth[-1][2] / 60 + 0.5 / 60
        proc = subprocess.run([sys.executable, "-c", BUILD, str(film), str(work / "voices")], capture_output=True,
                              text=True)
        if proc.returncode != 0:
            raise SystemExit(f"the build failed: {proc.stderr.strip()[-800:]}")
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    report = result["report"]
    print(f"input: {minutes * 60:.1f} s, 4 speakers, {len(truth)} lines")
    for s in report["speakers"]:
        print(f"  {s['name']:10} {s['clips']:2d} clips {s['seconds']:5.1f} s, {s['rejected']} rejected")
    for r in report["rejected"]:
        print(f"  rejected {r['start_s']:6.2f}-{r['end_s']:6.2f} {r['speaker'] or '':10} {r['reason']}")
    print("  steps (s): " + ", ".join(f"{k} {v:.2f}" for k, v in report["timings_s"].items()))
    print(f"RESULT dataset_speakers_found {len(report['speakers'])} count goal 4")
    print(f"RESULT dataset_clip_speaker_purity {purity(report['clips'], truth):.3f} share goal 1")
    print(f"RESULT dataset_seconds_per_audio_minute {result['wall_s'] / minutes:.1f} s goal 30")


if __name__ == "__main__":
    main()
