"""From speech regions and speaker windows to speaker turns, and from turns to clips.

Speech regions (from voice activity) are covered by 1.6 s windows every 0.4 s. Each window's
verdict (a speaker, or unclear) holds for the stretch nearest its centre, so a region where two
people talk in turn splits where the voice changes. Turns longer than a clip may be are cut at
their quietest moments.

    >>> ws = windows(regions, duration_s)
    >>> ts = turns(regions, ws, verdicts, probs)    # [Turn(0.24, 4.79, speaker=0), ...]
    >>> split_turn(ts[0], probs, min_s=3, max_s=10)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from animstudio.voice.dataset.vad import FRAME_S

WINDOW_S = 1.6
HOP_S = 0.4
SNAP_S = 0.4      # a change of speaker moves to the quietest frame this near


@dataclass(frozen=True)
class Window:
    start_s: float
    end_s: float
    region: int

    @property
    def centre_s(self) -> float:
        return (self.start_s + self.end_s) / 2


@dataclass(frozen=True)
class Turn:
    start_s: float
    end_s: float
    speaker: int          # -1: nobody's clear voice
    reason: str = ""      # why, when speaker is -1

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def windows(regions: list[tuple[float, float]], duration_s: float, window_s: float = WINDOW_S,
            hop_s: float = HOP_S) -> list[Window]:
    """Windows covering each region: one centred on a short region (taking in the audio around
    it), else windows every ``hop_s`` with the last one ending where the region ends."""
    out: list[Window] = []
    for r, (s, e) in enumerate(regions):
        if e - s <= window_s:
            start = min(max(0.0, (s + e - window_s) / 2), max(0.0, duration_s - window_s))
            out.append(Window(start, min(duration_s, start + window_s), r))
            continue
        count = int(np.floor((e - s - window_s) / hop_s + 1e-9)) + 1
        starts = [s + i * hop_s for i in range(count)]
        if e - (starts[-1] + window_s) > hop_s / 4:
            starts.append(e - window_s)
        out.extend(Window(a, a + window_s, r) for a in starts)
    return out


def _smooth(labels: list[int]) -> list[int]:
    """A single window of one speaker between two windows of another is the other's; a single
    unclear window between two different speakers is where one hands over to the other."""
    out = list(labels)
    for i in range(1, len(labels) - 1):
        before, here, after = labels[i - 1], labels[i], labels[i + 1]
        if before == after >= 0 and here >= 0 and here != before:
            out[i] = before
        elif here < 0 and before >= 0 and after >= 0 and before != after:
            out[i] = before
    return out


def _quietest(probs: np.ndarray, around_s: float, lo_s: float, hi_s: float) -> float:
    lo = max(lo_s, around_s - SNAP_S)
    hi = min(hi_s, around_s + SNAP_S)
    a, b = int(np.ceil(lo / FRAME_S)), int(np.floor(hi / FRAME_S))
    if b <= a or a >= len(probs):
        return around_s
    b = min(b, len(probs))
    return (a + int(np.argmin(probs[a:b]))) * FRAME_S + FRAME_S / 2


def _minus(a: float, b: float, cuts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """[a, b) without the spans in ``cuts``."""
    parts = [(a, b)]
    for c, d in cuts:
        parts = [piece for x, y in parts for piece in ((x, min(y, c)), (max(x, d), y)) if piece[1] > piece[0]]
    return parts


def turns(regions: list[tuple[float, float]], wins: list[Window], verdicts: list[tuple[int, str]],
          probs: np.ndarray) -> list[Turn]:
    """Speaker turns and unclear stretches covering every region, in time order.

    An unclear stretch covers the whole of its windows, not only their middles: a window is unclear
    when a second voice is somewhere in its 1.6 s, and that voice must not leak into a clip."""
    out: list[Turn] = []
    for r, (s, e) in enumerate(regions):
        idx = [i for i, w in enumerate(wins) if w.region == r]
        labels = _smooth([verdicts[i][0] for i in idx])
        pieces: list[list] = []  # [start, end, speaker, reason, first window, last window]
        for j, i in enumerate(idx):
            start = s if j == 0 else (wins[idx[j - 1]].centre_s + wins[i].centre_s) / 2
            end = e if j == len(idx) - 1 else (wins[i].centre_s + wins[idx[j + 1]].centre_s) / 2
            if pieces and pieces[-1][2] == labels[j]:
                pieces[-1][1], pieces[-1][5] = end, i
            else:
                pieces.append([start, end, labels[j], verdicts[i][1] if labels[j] < 0 else "", i, i])
        for j in range(1, len(pieces)):  # move changes between two speakers to the quietest moment
            if pieces[j - 1][2] >= 0 and pieces[j][2] >= 0:
                cut = _quietest(probs, pieces[j][0], pieces[j - 1][0] + 0.1, pieces[j][1] - 0.1)
                pieces[j - 1][1] = pieces[j][0] = cut
        unclear = [(max(s, wins[first].start_s), min(e, wins[last].end_s), why)
                   for _, _, lab, why, first, last in pieces if lab < 0]
        spans = [(a, b) for a, b, _ in unclear]
        found = [Turn(round(a, 3), round(b, 3), -1, why) for a, b, why in unclear]
        for a, b, lab, _, _, _ in pieces:
            if lab >= 0:
                found += [Turn(round(x, 3), round(y, 3), lab) for x, y in _minus(a, b, spans) if y - x > 0.01]
        out.extend(sorted(found, key=lambda t: t.start_s))
    return out


def split_turn(turn: Turn, probs: np.ndarray, min_s: float, max_s: float) -> list[Turn]:
    """Cut a turn longer than ``max_s`` at its quietest frame, keeping the parts at least ``min_s``
    long where it can (else cutting nearest the middle), until every part fits."""
    if turn.duration_s <= max_s:
        return [turn]
    lo_s, hi_s = turn.start_s + min_s, turn.end_s - min_s
    if hi_s <= lo_s:  # too short to keep both parts long enough: cut in the middle third
        third = turn.duration_s / 3
        lo_s, hi_s = turn.start_s + third, turn.end_s - third
    a, b = int(np.ceil(lo_s / FRAME_S)), min(len(probs), int(np.floor(hi_s / FRAME_S)))
    if b <= a:
        cut = round((turn.start_s + turn.end_s) / 2, 3)
    else:
        cut = round((a + int(np.argmin(probs[a:b]))) * FRAME_S + FRAME_S / 2, 3)
    left = Turn(turn.start_s, cut, turn.speaker, turn.reason)
    right = Turn(cut, turn.end_s, turn.speaker, turn.reason)
    return split_turn(left, probs, min_s, max_s) + split_turn(right, probs, min_s, max_s)
