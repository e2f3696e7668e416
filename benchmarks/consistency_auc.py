"""How well character appearance scoring tells one character from another, measured in one run against
a plain colour histogram.

Data: kenney_toon (shared data: 6 characters x 13 poses: idle, jump, fall, two climbing poses seen from
behind, eight walking). Each picture is scored (animstudio.image.consistency: the mean of the 3 best
cosine similarities) against its own character's 12 other poses (leave-one-out) and against each other
character's 13; the figure is the ROC AUC of same-character against other-character scores (1.0: every
same-character score above every other one; 0.5: chance). 78 same and 390 other scores per run, the
mean over --seeds runs with different random backgrounds.

Conditions, each for the embedded default (``palette``) and the peer:
- flat (the main figure): no alpha, each picture on a random flat colour. This is the honest main
  case: a generated picture has no alpha, and with alpha the cut-out is given away for free.
- alpha: the cut-outs as given (alpha marks the character).
- noise: no alpha, on a random colour under coarse blotches and per-pixel grain.
- noise-scaled-jpeg: as noise, the character also scaled by 0.6-1.6, moved up to 10 px on a canvas
  30% larger, and saved as JPEG at quality 60.
Peer: an RGB histogram (8 bins per channel, 512 in all) of the whole picture as a unit vector, scored
the same way. It also prints the threshold the data suggest (the midpoint of the 5th percentile of
same-character scores and the 95th of other-character scores, over the flat and noise conditions)
and the share of scores on the right side of the threshold in use (consistency.THRESHOLDS).

    python benchmarks/consistency_auc.py             # ends with one RESULT line per figure
    python benchmarks/consistency_auc.py --seeds 1   # one background per picture and condition
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "characters" / "kenney_toon"
CONDITIONS = ("flat", "alpha", "noise", "noise-scaled-jpeg")


class RGBHistogram:
    """The peer: a joint RGB histogram of the whole picture (alpha dropped), 8 bins per channel."""

    name = "rgb-histogram"

    def embed(self, images: list[Any]) -> np.ndarray:
        rows = []
        for image in images:
            rgb = np.asarray(image.convert("RGB")).reshape(-1, 3) // 32
            hist = np.bincount(rgb[:, 0] * 64 + rgb[:, 1] * 8 + rgb[:, 2], minlength=512).astype(np.float64)
            rows.append(hist / np.linalg.norm(hist))
        return np.asarray(rows, np.float32)


def measure(groups: dict[str, list[Any]], embedders: dict[str, Any], seeds: int) -> dict[str, dict[str, Any]]:
    """For each condition and embedder: the mean AUC over seeds, and all same / other scores."""
    from animstudio.image.consistency import TOP_K
    from animstudio.image.trials import group_scores, make_condition, roc_auc

    out: dict[str, dict[str, Any]] = {}
    for condition in CONDITIONS:
        for label, embedder in embedders.items():
            aucs, same, other, seconds = [], [], [], 0.0
            for seed in range(seeds):
                shown = make_condition(groups, condition, seed)
                start = time.perf_counter()
                vectors = {name: embedder.embed(images) for name, images in shown.items()}
                seconds += time.perf_counter() - start
                s, o = group_scores(vectors, TOP_K)
                aucs.append(roc_auc(s, o))
                same.append(s)
                other.append(o)
            out[f"{label}:{condition}"] = {"auc": float(np.mean(aucs)), "aucs": aucs, "same": np.concatenate(same),
                                           "other": np.concatenate(other),
                                           "ms": 1000 * seconds / (seeds * sum(map(len, groups.values())))}
            r = out[f"{label}:{condition}"]
            print(f"{condition:18} {label:14} AUC {r['auc']:.4f}  (per seed {' '.join(f'{a:.4f}' for a in aucs)})  "
                  f"same p5 {np.percentile(r['same'], 5):.3f}  other p95 {np.percentile(r['other'], 95):.3f}  "
                  f"{r['ms']:.1f} ms/picture", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="runs with different random backgrounds (default 3)")
    parser.add_argument("--data", type=Path, default=DATA, help="a folder with one sub-folder of pictures per "
                                                               "character (default: kenney_toon in shared data)")
    args = parser.parse_args()
    from animstudio.image.appearance import PaletteEmbedder
    from animstudio.image.consistency import THRESHOLDS
    from animstudio.image.trials import load_groups

    if not args.data.is_dir():
        parser.error(f"{args.data} is not a folder; pass --data with one sub-folder of pictures per character")
    groups = load_groups(args.data)
    print(f"{len(groups)} characters, {sum(map(len, groups.values()))} pictures, {args.seeds} seed(s)")
    results = measure(groups, {"palette": PaletteEmbedder(), "rgb-histogram": RGBHistogram()}, args.seeds)

    same = np.concatenate([results[f"palette:{c}"]["same"] for c in ("flat", "noise")])
    other = np.concatenate([results[f"palette:{c}"]["other"] for c in ("flat", "noise")])
    low_same, high_other = np.percentile(same, 5), np.percentile(other, 95)
    suggested = (low_same + high_other) / 2
    threshold = THRESHOLDS["palette"]
    print(f"suggested threshold {suggested:.3f}: same-character p5 {low_same:.3f}, other-character p95 "
          f"{high_other:.3f} over flat and noise (in use: {threshold})")
    for condition in CONDITIONS:
        r = results[f"palette:{condition}"]
        right = (np.sum(r["same"] >= threshold) + np.sum(r["other"] < threshold)) / (len(r["same"]) + len(r["other"]))
        print(f"{condition:18} at threshold {threshold}: same kept {np.mean(r['same'] >= threshold):.3f}, "
              f"other refused {np.mean(r['other'] < threshold):.3f}, right {right:.3f}")

    main_auc = results["palette:flat"]["auc"]
    print(f"RESULT consistency_auc {main_auc:.4f} ratio goal 0.95")
    for condition in CONDITIONS[1:]:
        print(f"RESULT consistency_auc_{condition.replace('-', '_')} {results[f'palette:{condition}']['auc']:.4f} "
              f"ratio goal none")
    for condition in CONDITIONS:
        print(f"RESULT baseline_rgb_histogram_auc_{condition.replace('-', '_')} "
              f"{results[f'rgb-histogram:{condition}']['auc']:.4f} ratio goal none")
    print(f"RESULT consistency_threshold_suggested {suggested:.3f} cosine goal none")
    print(f"RESULT consistency_ms_per_picture_flat {results['palette:flat']['ms']:.1f} ms goal none")
    print(f"RESULT consistency_ms_per_picture_noise {results['palette:noise']['ms']:.1f} ms goal none")


if __name__ == "__main__":
    main()
