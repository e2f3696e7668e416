"""Real-time factor of each built-in TTS engine (seconds of compute per second of speech) on the
LJ Speech transcripts of ../shared/data, after one warm-up line. Goals on 2 cores: Piper <= 0.05,
Kokoro <= 0.3 (espeak-ng is reported for comparison).

    python benchmarks/tts_speed.py              # ends with one RESULT line per engine
    python benchmarks/tts_speed.py kokoro
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

GOALS = {"piper": "0.05", "kokoro": "0.3", "espeak": "none"}
DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "speech" / "ljspeech" / "metadata.csv"


def lines() -> list[str]:
    return [row.split("|")[2] for row in DATA.read_text(encoding="utf-8").splitlines() if row.strip()]


def rtf(engine_name: str, texts: list[str]) -> tuple[float, float, float]:
    from animstudio.plugins import get_backend

    engine = get_backend("tts_engine", engine_name)()
    engine.synthesize("Warming up the voice.")   # model load and first-run costs are not speech time
    spent = spoken = 0.0
    for text in texts:
        start = time.perf_counter()
        speech = engine.synthesize(text)
        spent += time.perf_counter() - start
        spoken += speech.duration_s
    return spent / spoken, spent, spoken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("engines", nargs="*", help=f"TTS engines to measure (default: {', '.join(GOALS)})")
    args = parser.parse_args()
    texts = lines()
    names = args.engines or list(GOALS)
    results = {}
    print(f"{len(texts)} lines of LJ Speech; {'engine':8} {'compute s':>10} {'speech s':>9} {'RTF':>7}")
    for name in names:
        results[name], spent, spoken = rtf(name, texts)
        print(f"{name:8} {spent:10.2f} {spoken:9.2f} {results[name]:7.3f}")
    for name in names:
        print(f"RESULT rtf_{name} {results[name]:.3f} x goal {GOALS.get(name, 'none')}")


if __name__ == "__main__":
    main()
