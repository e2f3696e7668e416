"""A render's progress counts every part of the work once: it reaches the end only when the video
segments and the audio are all done, and never goes back."""

from __future__ import annotations

import pytest

from animstudio.editing import Edit, Output, render_video
from animstudio.editing.render import AUDIO_WEIGHT, _Work


def test_the_audio_alone_is_a_small_part_of_the_work():
    seen = []
    work = _Work(10.0, lambda e: seen.append(e.fraction), None)
    work.progress("mix", 10.0)          # the whole mix is done long before the picture
    work.progress("audio", 10.0)
    assert seen[-1] == pytest.approx(2 * AUDIO_WEIGHT / (1 + 2 * AUDIO_WEIGHT))
    work.progress("segment 0", 5.0)
    assert seen[-1] < 1.0
    work.progress("segment 1", 5.0)
    assert seen[-1] == pytest.approx(1.0)
    assert seen == sorted(seen)


def test_a_real_render_reports_steadily_to_the_end(sample_clip, tmp_path):
    clip, _ = sample_clip
    edit = Edit(Output(width=320, height=180, fps=24))
    edit.cut(clip, 0.0, 6.0)
    fractions = []
    render_video(edit.timeline, tmp_path / "out.mp4", preset="draft",
                 on_progress=lambda e: fractions.append(e.fraction), jobs=2)
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert sum(f >= 0.999 for f in fractions) <= 3   # the end is reported at the end, not all along
