"""probe(): exact frame counts, rates, VFR, rotation, SAR and audio streams on real and made files."""

from __future__ import annotations

import json

import pytest

from animstudio.errors import InvalidInputError
from animstudio.media import probe
from animstudio.media.probe import require_video
from conftest import ffmpeg, run_cli


def test_big_buck_bunny_cli_json(shared_data):
    proc = run_cli("media", "probe", str(shared_data / "video" / "big_buck_bunny_0_30.webm"), "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["frame_count"] == 720
    assert info["fps"] == 24.0 and info["avg_fps"] == 24.0
    assert (info["width"], info["height"]) == (1280, 720)
    assert info["vfr"] is False
    assert abs(info["duration_s"] - 30.0) < 0.01
    assert info["audio"][0]["sample_rate"] == 44100 and info["audio"][0]["channels"] == 2
    for key in ("duration_s", "fps", "avg_fps", "frame_count", "width", "height", "vfr", "audio"):
        assert key in info


@pytest.mark.parametrize("name,frames", [("moviepy_example2_bbb_2s.mp4", 48), ("moviepy_example3_sintel_2s.mp4", 48),
                                         ("big_buck_bunny_432_433.webm", 24)])
def test_real_clips_frame_counts(shared_data, name, frames):
    info = probe(shared_data / "video" / name)
    assert info.frame_count == frames and info.fps == 24.0


def test_variable_frame_rate_is_detected(tmp_path, sample_clip):
    clip, _ = sample_clip
    vfr = tmp_path / "vfr.mkv"
    # the first half plays at 24 fps, the rest with every frame held twice as long
    ffmpeg("-i", str(clip), "-an", "-vf", "setpts='if(lt(N,100),N,100+(N-100)*2)/24/TB'", "-fps_mode", "vfr",
           "-c:v", "libx264", "-preset", "ultrafast", str(vfr))
    info = probe(vfr)
    assert info.vfr is True
    assert info.frame_count == 288
    assert info.avg_fps is not None and info.avg_fps < 20
    assert not probe(clip).vfr


def test_rotation_and_sample_aspect_ratio(tmp_path, sample_clip):
    clip, _ = sample_clip
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(clip), "-c", "copy", str(rotated))
    info = probe(rotated)
    assert info.rotation in (90, 270)
    assert info.display_size == (360, 640)
    anamorphic = tmp_path / "anamorphic.mp4"
    ffmpeg("-i", str(clip), "-vf", "scale=480:360,setsar=4/3", "-c:v", "libx264", "-preset", "ultrafast",
           "-an", str(anamorphic))
    info = probe(anamorphic)
    assert info.sample_aspect_ratio == "4:3"
    assert info.display_size == (640, 360)
    assert info.audio == []


def test_audio_only(tmp_path, sample_clip):
    clip, truth = sample_clip
    m4a = tmp_path / "voice.m4a"
    ffmpeg("-i", str(clip), "-vn", "-c:a", "copy", str(m4a))
    info = probe(m4a)
    assert not info.has_video and info.frame_count is None
    assert info.audio[0].codec == "aac" and abs(info.duration_s - truth["duration_s"]) < 0.1
    with pytest.raises(InvalidInputError, match="audio only"):
        require_video(info)


def test_fast_probe_estimates(sample_clip):
    clip, truth = sample_clip
    assert probe(clip, count_frames=False).frame_count == truth["frame_count"]


def test_edit_list_frames_are_not_counted(tmp_path, sample_clip):
    from animstudio.media import iter_frames

    clip, _ = sample_clip
    cut = tmp_path / "cut.mp4"
    ffmpeg("-ss", "0.7", "-i", str(clip), "-c", "copy", str(cut))  # stream copy from a non-keyframe
    assert probe(cut).frame_count == sum(1 for _ in iter_frames(cut, width=32, fmt="gray"))


def test_truncated_matroska_is_reported(tmp_path, sample_clip):
    from animstudio.errors import MediaUnreadableError

    clip, _ = sample_clip
    mkv = tmp_path / "whole.mkv"
    ffmpeg("-i", str(clip), "-c", "copy", str(mkv))
    assert probe(mkv).frame_count == 288
    half = tmp_path / "half.mkv"
    half.write_bytes(mkv.read_bytes()[: mkv.stat().st_size // 2])
    with pytest.raises(MediaUnreadableError, match="truncated"):
        probe(half)


def test_cover_art_is_not_video(tmp_path, sample_clip):
    clip, _ = sample_clip
    cover = tmp_path / "cover.png"
    ffmpeg("-ss", "3", "-i", str(clip), "-frames:v", "1", str(cover))
    song = tmp_path / "song.mp3"
    ffmpeg("-i", str(clip), "-i", str(cover), "-map", "0:a", "-map", "1:v", "-c:a", "libmp3lame", "-c:v", "png",
           "-disposition:v", "attached_pic", str(song))
    info = probe(song)
    assert not info.has_video and info.audio[0].codec.startswith("mp3")
    proc = run_cli("media", "frame", str(song), "--at", "2", "-o", str(tmp_path / "f.png"))
    assert proc.returncode == 1 and "no video stream" in proc.stderr
