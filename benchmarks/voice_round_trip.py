"""Word error rate of speech heard back by whisper-base: Piper and Kokoro reading the LJ Speech
transcripts of ../shared/data (goal <= 10 %), Kokoro reading ten Italian sentences (goal <= 20 %).
Corpus WER: all word errors over all reference words; English numbers are scored as spoken.

    python benchmarks/voice_round_trip.py        # ends with one RESULT line per figure
"""

from __future__ import annotations

import argparse

from tts_speed import lines


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    from animstudio.plugins import get_backend
    from animstudio.voice.qa import SAMPLE_LINES, check_voice, corpus_wer

    cases = [("piper", "en", lines(), "0.10"), ("kokoro", "en", lines(), "0.10"),
             ("kokoro", "it", SAMPLE_LINES["it"], "0.20")]
    results = []
    for name, language, texts, goal in cases:
        engine = get_backend("tts_engine", name)()
        checks = check_voice(lambda t, e=engine, lang=language: e.synthesize(t, language=lang), texts)
        for c in checks:
            print(f"{name:7} {language} {c.wer:5.2f}  {c.heard}")
        results.append((f"wer_{name}_{language}", corpus_wer(checks), goal))
    for figure, value, goal in results:
        print(f"RESULT {figure} {value:.3f} share goal {goal}")


if __name__ == "__main__":
    main()
