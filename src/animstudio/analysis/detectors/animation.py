"""The `animation` detector (default): hard cuts and gradual transitions, robust to cartoons.

What it does about the ways animation fools detectors:
- drawings held on twos or threes: only absolute block and colour-histogram changes count, never
  ratios to the recent average, so runs of identical frames change nothing;
- flashes and impact frames: a change whose "before" picture comes back within a few frames is a
  flash, not a cut;
- camera moves and big motion (a whip pan, a character leaving the frame): a cut needs most of the
  frame's blocks to change *and* either new colours or a change no small shift explains;
- subtitles, captions and watermarks touch few blocks, so they never reach the cut threshold;
- fades and dissolves: windows where every frame is a blend of the frames either side are fitted
  with a straight line in blend weight, which gives their exact span; a pan is no blend and fails
  the fit.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from animstudio.analysis.detector import Detection, SceneDetector, Transition
from animstudio.analysis.features import Features
from animstudio.analysis.signals import block_change, hist_distance, shift_residual


class AnimationDetector(SceneDetector):
    name = "animation"
    description = "cuts, flashes, fades and dissolves, robust to held drawings and camera moves"

    class Options(SceneDetector.Options):
        cut_blocks: float = Field(0.5, ge=0.05, le=1.0, description="fraction of blocks that must change at a cut")
        cut_hist: float = Field(0.15, ge=0.0, le=1.0,
                                description="colour change below which a cut must not be explainable by a small shift")
        flash_s: float = Field(0.15, ge=0.0, le=1.0, description="a picture that returns within this is a flash")
        min_shot_s: float = Field(0.4, ge=0.0, le=10.0, description="shorter shots are merged")
        window_s: float = Field(0.25, ge=0.05, le=2.0, description="half-window for gradual transitions")
        max_transition_s: float = Field(3.0, ge=0.1, le=10.0, description="longest fade or dissolve")
        fit_residual: float = Field(0.45, ge=0.01, le=1.0, description="how far frames may stray from a pure blend")
        uniform_spread: float = Field(12.0, ge=0.0, le=60.0, description="luma spread of a solid black/white frame")

    def process(self, features: Features) -> Detection:
        f = features
        if f.n < 2:
            return Detection()
        fps = f.fps
        cuts, flashes = self._hard_cuts(f, fps)
        transitions = self._gradual(f, fps, cuts + flashes)
        return Detection(cuts=cuts, transitions=transitions, flashes=flashes)

    # -- hard cuts -------------------------------------------------------------------------------
    def _similar(self, f: Features, a: int, b: int) -> bool:
        return bool(block_change(f.blocks[a], f.blocks[b]) < 0.25 and hist_distance(f.hist[a], f.hist[b]) < 0.1)

    def _hard_cuts(self, f: Features, fps: float) -> tuple[list[int], list[int]]:
        o = self.options
        hd = hist_distance(f.hist[:-1], f.hist[1:])
        bc = block_change(f.blocks[:-1], f.blocks[1:])
        score = bc * (0.5 + hd)
        k_max = max(1, round(o.flash_s * fps))
        cuts: list[int] = []
        flashes: list[int] = []
        for c in (np.flatnonzero(bc >= o.cut_blocks) + 1).tolist():
            if hd[c - 1] < o.cut_hist and shift_residual(f.thumbs[c - 1], f.thumbs[c]) < 8.0:
                continue  # the camera moved: a small shift explains the change
            returns = any(c + k < f.n and self._similar(f, c - 1, c + k) for k in range(1, k_max + 1))
            came_back = any(c - 1 - k >= 0 and self._similar(f, c - 1 - k, c) for k in range(1, k_max + 1))
            if returns or came_back:
                if returns:
                    flashes.append(c)
                continue
            cuts.append(c)
        # a minimum shot length: of two cuts too close together keep the stronger
        min_gap = max(1, round(o.min_shot_s * fps))
        kept: list[int] = []
        for c in cuts:
            if kept and c - kept[-1] < min_gap:
                if score[c - 1] > score[kept[-1] - 1]:
                    kept[-1] = c
                continue
            if c < min_gap and score[c - 1] < 0.9:
                continue  # a weak change right at the start is not a shot of its own
            kept.append(c)
        return kept, flashes

    # -- gradual transitions ---------------------------------------------------------------------
    def _gradual(self, f: Features, fps: float, hard: list[int]) -> list[Transition]:
        o = self.options
        w = max(2, round(o.window_s * fps))
        if f.n <= 2 * w:
            return []
        centre = np.arange(w, f.n - w)
        wide = block_change(f.blocks[: f.n - 2 * w], f.blocks[2 * w:]) >= o.cut_blocks   # frame c-w against c+w
        found: list[Transition] = []
        runs = np.split(centre[wide], np.flatnonzero(np.diff(centre[wide]) > 1) + 1) if wide.any() else []
        for run in runs:
            a, b = int(run[0]) - w, int(run[-1]) + w
            if any(a < c <= b for c in hard):
                continue  # a hard cut (or a flash) makes this window change, not a blend
            solid = np.flatnonzero(f.spread[a:b + 1] < o.uniform_spread) + a
            if solid.size:  # through a black or white frame: a fade out, then a fade in
                pieces = [(a, int(solid[0])), (int(solid[-1]), b)]
            else:
                pieces = [(a, b)]
            for lo, hi in pieces:
                t = self._fit(f, lo, hi, fps) if hi - lo >= 2 else None
                if t and not (found and t.start_frame < found[-1].end_frame):
                    found.append(t)
        return found

    @staticmethod
    def _snap(f: Features, start: int, end: int) -> tuple[int, int]:
        """Exact ends: inside a blend every frame steps the same way towards the next shot.

        Each step is projected on the before->after direction; the blend is the run of steps
        larger than half the typical one (motion in either shot steps much less).
        """
        lo, hi = max(1, start - 3), min(f.n - 1, end + 3)
        a, b = f.thumbs[start - 1].ravel(), f.thumbs[end].ravel()
        d = b - a
        frames = f.thumbs[lo - 1:hi + 1].reshape(hi - lo + 2, -1)
        steps = np.diff(frames, axis=0) @ d / float(d @ d)   # steps[i]: frame lo-1+i -> lo+i
        typical = float(np.median(steps[start - lo:end - lo + 1]))
        big = np.flatnonzero(steps > typical / 2)
        if typical <= 0 or big.size == 0:
            return start, end
        # the longest run of big steps that overlaps the estimate
        runs = np.split(big, np.flatnonzero(np.diff(big) > 1) + 1)
        best = max(runs, key=len)
        s, e = lo + int(best[0]), lo + int(best[-1])
        # An end step can be motion undoing itself (a dip and a return next to the blend): the first
        # blended frame must stand clear of the frames before the run, the last one's predecessor
        # clear of the frames after it.
        level = np.concatenate([[0.0], np.cumsum(steps)])   # level[k]: frame lo-1+k along the blend
        before, after = float(np.median(level[: s - lo + 1])), float(np.median(level[e - lo + 1:]))
        while e - s > 2 and level[s - lo + 1] <= before + typical / 2:
            s += 1
        while e - s > 2 and level[e - lo] >= after - typical / 2:
            e -= 1
        return s, e

    def _fit(self, f: Features, a: int, b: int, fps: float) -> Transition | None:
        o = self.options
        span = None
        for attempt in range(2):  # fit in the wide window, then refit and check between the found ends
            A, B = f.thumbs[a].ravel(), f.thumbs[b].ravel()
            d = B - A
            dd = float(d @ d)
            if dd < 1e-6:
                return None
            frames = f.thumbs[a:b + 1].reshape(b - a + 1, -1)
            alpha = (frames - A) @ d / dd
            resid = np.linalg.norm(frames - A - alpha[:, None] * d, axis=1) / np.sqrt(dd)
            if np.any(np.diff(alpha) < -0.1) or (attempt and resid.max() > o.fit_residual):
                return None  # not a blend: the picture moved or changed some other way
            mid = (alpha > 0.15) & (alpha < 0.85)  # the steep part: motion in either shot adds drift at the ends
            if mid.sum() < 2:
                return None
            t = np.arange(a, b + 1)[mid]
            slope, icpt = np.polyfit(t, alpha[mid], 1)
            if slope <= 0:
                return None
            start, end = int(round(-icpt / slope)) + 1, int(round((1 - icpt) / slope))
            start, end = max(start, 1), min(end, f.n - 1)
            if end - start < 2 or end - start > o.max_transition_s * fps:
                return None
            span = (start, end)
            a, b = start - 1, end
        if span is None:
            return None
        start, end = self._snap(f, *span)
        before, after = f.spread[start - 1] < o.uniform_spread, f.spread[end] < o.uniform_spread
        if before and after:
            return None
        if before or after:
            luma = f.luma[start - 1] if before else f.luma[end]
            return Transition(type="fade_in" if before else "fade_out", start_frame=start, end_frame=end,
                              color="black" if luma < 128 else "white")
        return Transition(type="dissolve", start_frame=start, end_frame=end)
