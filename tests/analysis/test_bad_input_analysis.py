"""Bad input to `animstudio analyze` and the decoding under it: one line, exit 1, nothing written.

A WebM cut short (its header says 30 s, its data ends near 2.5 s) is refused by every command
that decodes, as `media probe` refuses it, instead of passing for a short video.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from animstudio.errors import MediaUnreadableError
from conftest import assert_bad_input, ffmpeg, run_cli, tree

MISMATCH = ("is truncated", "its header says 30.00 s but the data ends at", "re-export or re-download it")


@pytest.fixture(scope="module")
def truncated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 30 s VP8 WebM with only its first twelfth of bytes (a download cut short)."""
    folder = tmp_path_factory.mktemp("truncated")
    whole = folder / "whole.webm"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x36:rate=24", "-t", "30", "-c:v", "libvpx", "-b:v", "100k",
           "-deadline", "realtime", "-cpu-used", "8", str(whole))
    cut = folder / "cut.webm"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 12])
    return cut


@pytest.mark.parametrize("command", [["analyze", "scenes"], ["analyze", "camera"], ["analyze", "all"],
                                     ["analyze", "scenes", "--fast", "--json"]])
def test_analyze_refuses_a_truncated_webm(truncated, tmp_path, command):
    before = tree(tmp_path)
    lines = assert_bad_input(run_cli(*command, str(truncated)), *MISMATCH)
    assert len(lines) == 1
    assert tree(tmp_path) == before


def test_report_refuses_a_truncated_webm_and_writes_nothing(truncated, tmp_path):
    before = tree(tmp_path)
    assert_bad_input(run_cli("analyze", "report", str(truncated), "-o", str(tmp_path / "report")), *MISMATCH)
    assert tree(tmp_path) == before and not (tmp_path / "report").exists()


def test_highlights_refuses_a_truncated_webm(truncated, tmp_path):
    before = tree(tmp_path)
    assert_bad_input(run_cli("edit", "highlights", str(truncated), "-d", "2", "-o", str(tmp_path / "reel.mp4"),
                             "--preset", "draft"), *MISMATCH)
    assert tree(tmp_path) == before


def test_the_decoders_refuse_a_truncated_webm(truncated):
    from animstudio.analysis.features import extract_features
    from animstudio.media import iter_frames, read_frame

    with pytest.raises(MediaUnreadableError, match="header says 30.00 s but the data ends at"):
        list(iter_frames(truncated, width=32))
    with pytest.raises(MediaUnreadableError, match="is truncated"):
        extract_features(truncated)
    with pytest.raises(MediaUnreadableError, match="is truncated"):
        read_frame(truncated, 20.0)
    assert read_frame(truncated, 1.0).time_s == 1.0   # what is there can still be looked at


def test_a_video_shorter_than_its_sound_is_not_truncated(tmp_path):
    """The container's length is the sound's: the video ending early is no mismatch."""
    from animstudio.media import iter_frames

    clip = tmp_path / "short-video.webm"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x36:rate=24:duration=1", "-f", "lavfi", "-i",
           "sine=frequency=440:duration=6", "-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus", str(clip))
    assert len(list(iter_frames(clip, width=32))) == 24


def test_report_checks_the_video_before_the_output_folder(tmp_path):
    """A bad video is named first, and nothing is made, whatever the output."""
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    before = tree(tmp_path)
    assert_bad_input(run_cli("analyze", "report", str(text), "-o", str(blocker)), "not a media file")
    assert_bad_input(run_cli("analyze", "report", str(text), "-o", str(tmp_path / "out" / "report")),
                     "not a media file")
    assert tree(tmp_path) == before and sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "notes.mp4"]
