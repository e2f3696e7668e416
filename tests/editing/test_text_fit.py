"""Text is fitted with the font and the size it is drawn at: a caption that fits is drawn inside the
frame's margin, and comic beats last on the timeline as long as they say."""

from __future__ import annotations

import numpy as np
import pytest

from animstudio.editing.beats import BEATS, add_shot, hold_last_frame
from animstudio.editing.schema import Output
from animstudio.editing.text_fit import (
    CAPTION_SIZE,
    WIDTH_SHARE,
    chars_for_width,
    cut_to,
    fits_time,
    fits_width,
    text_width,
)
from animstudio.editing.timeline import Edit

W, H = 640, 360


def drawn_span(caption: str, tmp_path) -> tuple[int, int]:
    """First and last columns with bright pixels when ``caption`` is rendered over black at CAPTION_SIZE."""
    from animstudio.editing.render import render
    from animstudio.media.frames import iter_frames

    edit = Edit(Output(width=W, height=H, fps=24, loudness=None))
    edit.gap(1.0)
    edit.add_text(caption, 0.0, 1.0, size=CAPTION_SIZE, y=0.5, animate_in="none", outline=0.0)
    out = render(edit.timeline, tmp_path / "caption.mp4", preset="draft").path
    image = next(f.image for f in iter_frames(out, fmt="gray") if f.index == 12)
    columns = np.flatnonzero((image > 128).any(axis=0))
    return int(columns[0]), int(columns[-1])


def test_a_caption_measured_to_fit_is_drawn_inside_the_margin(tmp_path):
    wide = "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW"             # 32 of the widest letters
    narrow = "il" * 16                                  # as many characters, a fraction of the width
    assert not fits_width(wide, W, H) and fits_width(narrow, W, H)
    budget = chars_for_width(W, H)
    caption = cut_to("Here comes the rarest blob of all the meadows, at last", budget)
    while not fits_width(caption, W, H):
        caption = cut_to(caption, len(caption) - 4)
    left, right = drawn_span(caption, tmp_path)
    margin = (1 - WIDTH_SHARE) / 2 * W
    assert left >= margin - 2 and right <= W - margin + 2, (left, right, caption)
    measured = text_width(caption, H)
    assert abs((right - left + 1) - measured) <= 0.06 * measured   # what is measured is what is drawn


def test_time_budgets():
    assert fits_time("Here comes the blob.", 1.5) and not fits_time("Here comes the blob, the rarest of all.", 1.5)
    assert fits_time("Hi there!", 0.2)          # any shot has room for a couple of words


@pytest.mark.parametrize("beat", ["none", *BEATS])
def test_each_beat_lasts_on_the_timeline_as_long_as_it_says(sample_clip, beat):
    clip, _ = sample_clip
    edit = Edit(Output(width=320, height=180, fps=24))
    seconds = add_shot(edit, str(clip), 2.0, 4.0, beat=beat, name="shot 1")
    assert edit.duration_s == pytest.approx(seconds, abs=1 / 24)
    expected = {"none": 2.0, "title_card": 2.0, "slow_motion": 4.0, "speed_ramp": 1.0, "freeze_zoom": 2.5,
                "rewind": 2.5, "repeat": 3.0, "record_scratch": 2.8}
    assert seconds == pytest.approx(expected[beat])
    held = hold_last_frame(edit, str(clip), 4.0, 1.2)
    assert held == 1.2 and edit.duration_s == pytest.approx(seconds + 1.2, abs=1 / 24)
