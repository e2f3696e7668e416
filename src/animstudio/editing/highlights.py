"""A highlight reel from an analysis, no LLM needed: the liveliest, loudest moments, in order.

Shots are found with the default detector; each is scored by picture motion (mean change between
neighbouring frames) and audio energy (RMS), both as z-scores; the best window of each chosen shot
goes into the reel in story order, joined by short transitions, with an optional music bed that
ducks under the clip's own sound.

    >>> edit = build_highlights("episode.mp4", duration_s=15, music="bed.mp3")
    >>> render(edit.timeline, "reel.mp4")
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from animstudio.editing.formats import REEL_S
from animstudio.editing.schema import Output
from animstudio.editing.timeline import Edit
from animstudio.errors import InvalidInputError
from animstudio.progress import ProgressCallback, ignore


@dataclass
class Moment:
    start_s: float
    end_s: float
    score: float


def score_moments(path: str | os.PathLike[str], clip_s: float = 3.0, margin_s: float = 0.0,
                  on_progress: ProgressCallback = ignore) -> list[Moment]:
    """One window (at most ``clip_s`` long) per shot, around its liveliest part, with a score.

    Windows keep ``margin_s`` from their shot's cuts: a transition's handles then show the same shot.
    """
    from animstudio.analysis import detect_scenes, extract_features, liveliness

    feats = extract_features(path, on_progress=on_progress, keep_frames=False)
    shots = detect_scenes(features=feats).shots
    fps = feats.fps
    moments = []
    window = max(1, round(clip_s * fps))
    per_frame = liveliness(path, feats)
    margin = int(np.ceil(margin_s * fps))
    for shot in shots:
        a, b = shot.start_frame, shot.end_frame
        if b - a > 2 * margin + round(fps):  # room for a second of picture between the margins
            a, b = a + margin, b - margin
        if b - a <= window:
            start = a
        else:  # the liveliest window inside the shot (a little away from its cut)
            sums = np.convolve(per_frame[a:b], np.ones(window), mode="valid")
            start = a + int(np.argmax(sums))
        end = min(b, start + window)
        moments.append(Moment(start / fps, end / fps, float(per_frame[start:end].mean())))
    return moments


def build_highlights(path: str | os.PathLike[str], duration_s: float = REEL_S,
                     music: str | os.PathLike[str] | None = None,
                     transition: str = "fade", transition_s: float = 0.4, clip_s: float = 3.0,
                     output: Output | None = None, on_progress: ProgressCallback = ignore) -> Edit:
    """An edit of about ``duration_s`` seconds from the best moments of ``path``."""
    if not 1.0 <= duration_s <= 3600:
        raise InvalidInputError(f"a highlight reel of {duration_s} s? pass a duration from 1 to 3600 seconds")
    from animstudio.media import probe

    info = probe(path, count_frames=False)
    fps = float(info.fps or 24.0)
    out = output or Output(width=info.width or 1280, height=info.height or 720, fps=fps)
    moments = score_moments(path, clip_s=clip_s, margin_s=transition_s / 2 + 1 / fps, on_progress=on_progress)
    picked: list[Moment] = []
    total = 0.0
    for m in sorted(moments, key=lambda m: -m.score):
        if total >= duration_s - 1e-6:
            break
        length = min(m.end_s - m.start_s, duration_s - total)
        if length < min(1.0, duration_s - total) - 1e-6:
            continue  # a sliver: skip it for a longer moment
        picked.append(Moment(m.start_s, m.start_s + length, m.score))
        total += length
    picked.sort(key=lambda m: m.start_s)
    edit = Edit(out, name=f"{Path(path).stem} highlights")
    for m in picked:
        edit.cut(path, m.start_s, m.end_s, name=f"{m.start_s:.2f}-{m.end_s:.2f} s (score {m.score:+.2f})")
    half = transition_s / 2
    for i in range(1, len(picked)):
        room = min(picked[i - 1].end_s - picked[i - 1].start_s, picked[i].end_s - picked[i].start_s) / 2
        if transition != "cut" and half * fps >= 1 and room > transition_s:
            edit.add_transition(i, transition, transition_s)
    if music is not None:
        edit.add_audio(music, role="music", loop=True, duck=True, duck_under="original", volume_db=-8,
                       fade_in_s=0.5, fade_out_s=1.5)
        edit.set_original_audio(duck=False)
    return edit
