"""A batch of analyses on the local executor: one file per video, the progress of the video being
analysed shown as it goes, and a second run that only does what is missing."""

from __future__ import annotations

import json

import pytest

from conftest import SHARED_DATA

CLIPS = ["moviepy_example2_bbb_2s.mp4", "moviepy_example3_sintel_2s.mp4"]


@pytest.fixture
def clips():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test media not found at {SHARED_DATA}")
    return [str(SHARED_DATA / "video" / name) for name in CLIPS]


def test_a_batch_reports_each_video_as_it_goes_and_a_second_run_does_only_what_is_missing(clips, tmp_path):
    from animstudio.analysis.batch import AnalysisBatchRequest, analyze_batch

    events = []
    out = tmp_path / "analyses"
    done = analyze_batch(AnalysisBatchRequest(files=clips[:1], output=str(out), executor="local"),
                         on_progress=events.append)
    assert (done.made, done.skipped) == (1, 0)
    assert [e.done for e in events] == sorted(e.done for e in events) and events[-1].done == 1
    assert any(0 < e.done < 1 and e.message.startswith(f"{CLIPS[0]}: ") for e in events)   # inside the video
    first = (out / "moviepy_example2_bbb_2s.json").stat().st_mtime_ns

    again = analyze_batch(AnalysisBatchRequest(files=clips, output=str(out), executor="local"))
    assert (again.made, again.skipped) == (1, 1)
    assert (out / "moviepy_example2_bbb_2s.json").stat().st_mtime_ns == first     # not analysed again
    shots = {i.file.rsplit("/", 1)[1]: i.shots for i in again.items}
    assert set(shots) == set(CLIPS) and all(n >= 1 for n in shots.values())
    assert json.loads((out / "batch.json").read_text())["executor"] == "local"
