"""Audio analysis, the report folder, and the inputs the issue calls bad."""

from __future__ import annotations

import json

import numpy as np
import pytest

from animstudio.analysis.analyze import VideoAnalysis
from animstudio.analysis.audio import analyze_audio
from conftest import ffmpeg, run_cli


def test_real_speech(shared_data):
    audio = analyze_audio(shared_data / "speech" / "faster_whisper" / "jfk.flac")
    assert audio.has_audio and audio.speech_ratio > 0.6
    assert audio.speech[0].start_s < 0.6 and audio.speech[-1].end_s > 10.0
    assert -20 < audio.integrated_lufs < -8


def test_sample_clip_silences_match_the_gaps(sample_clip):
    clip, truth = sample_clip
    audio = analyze_audio(clip)
    speech = np.zeros(1200, bool)  # 10 ms steps over 12 s
    for seg in truth["speech"]:
        speech[int(seg["start_s"] * 100):int(seg["end_s"] * 100)] = True
    for sil in audio.silences:  # no silence overlaps the speech by more than a few steps
        assert speech[int(sil.start_s * 100):int(sil.end_s * 100)].sum() <= 5
    assert audio.silences[0].start_s == 0.0 and audio.silences[0].end_s == pytest.approx(1.36, abs=0.05)
    assert audio.speech, "the speech-like track has voiced phrases"
    assert -30 < audio.integrated_lufs < -15


def test_loudness_matches_a_known_level(tmp_path):
    tone = tmp_path / "tone.wav"
    # a mono 1 kHz sine of peak 1/8 (-18.06 dBFS): EBU R128 reads a sine 3.01 dB under its peak level
    ffmpeg("-f", "lavfi", "-i", "sine=f=1000:r=48000:d=5", str(tone))
    assert analyze_audio(tone).integrated_lufs == pytest.approx(-21.07, abs=0.3)


def test_report_folder(tmp_path, sample_clip):
    import opentimelineio as otio

    clip, truth = sample_clip
    out = tmp_path / "report"
    proc = run_cli("analyze", "report", str(clip), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    result = VideoAnalysis.model_validate_json((out / "analysis.json").read_text())
    assert result.cuts == truth["cuts"] and len(result.camera) == len(result.shots) == 6
    assert len(result.signal) == truth["frame_count"] and result.audio.has_audio
    timeline = otio.adapters.read_from_file(str(out / "timeline.otio"))
    clips = list(timeline.find_clips())
    assert [c.source_range.start_time.to_frames() for c in clips] == [s["start"] for s in truth["shots"]]
    assert sum(c.source_range.duration.to_frames() for c in clips) == truth["frame_count"]
    markers = [m.name for c in clips for m in c.markers] + [m.name for m in timeline.tracks[0].markers]
    assert "camera: pan_right" in markers and "camera: zoom_in" in markers and "dissolve" in markers
    from PIL import Image

    sheet = Image.open(out / "contact_sheet.png")
    assert sheet.width == 4 * 320 and sheet.height > 2 * 180
    html = (out / "report.html").read_text()
    assert "<svg" in html and "cut at frame 187" in html and "data:image/png;base64," in html
    assert "http" not in html.replace("http://www.w3.org", "")  # self-contained


def test_full_analysis_of_bbb_fits_the_time_budget(shared_data):
    proc = run_cli("analyze", "all", str(shared_data / "video" / "big_buck_bunny_0_30.webm"))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["cuts"] == [283, 376, 551]
    assert sum(result["timings_s"].values()) < 30  # the budget on 2 cores


def test_audio_only_file(tmp_path, sample_clip):
    clip, _ = sample_clip
    m4a = tmp_path / "voice.m4a"
    ffmpeg("-i", str(clip), "-vn", "-c:a", "copy", str(m4a))
    proc = run_cli("analyze", "scenes", str(m4a))
    assert proc.returncode == 1 and "no video stream" in proc.stderr
    proc = run_cli("analyze", "audio", str(m4a), "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["has_audio"] is True


def test_corrupt_frames_in_the_middle(tmp_path, sample_clip):
    clip, truth = sample_clip
    mkv = tmp_path / "clip.mkv"
    ffmpeg("-i", str(clip), "-c", "copy", str(mkv))
    data = bytearray(mkv.read_bytes())
    rng = np.random.default_rng(0)
    middle = len(data) // 2
    for offset in rng.integers(middle - 20000, middle + 20000, 60):
        data[offset] ^= 0xFF
    broken = tmp_path / "broken.mkv"
    broken.write_bytes(bytes(data))
    proc = run_cli("analyze", "scenes", str(broken), "--json")
    assert proc.returncode == 0, proc.stderr
    cuts = json.loads(proc.stdout)["cuts"]
    assert truth["cuts"][0] in cuts and truth["cuts"][-1] in cuts


@pytest.mark.parametrize("kind", ["rotated", "odd_size", "one_frame", "still_image"])
def test_odd_videos(tmp_path, sample_clip, kind):
    clip, truth = sample_clip
    if kind == "rotated":
        path = tmp_path / "phone.mp4"
        ffmpeg("-display_rotation", "90", "-i", str(clip), "-c", "copy", str(path))
    elif kind == "odd_size":
        path = tmp_path / "odd.mp4"
        ffmpeg("-i", str(clip), "-vf", "scale=853:480", "-c:v", "libx264", "-pix_fmt", "yuv444p", "-preset",
               "ultrafast", str(path))
    elif kind == "one_frame":
        path = tmp_path / "one.mp4"
        ffmpeg("-i", str(clip), "-frames:v", "1", "-an", str(path))
    else:
        path = tmp_path / "still.png"
        ffmpeg("-ss", "3", "-i", str(clip), "-frames:v", "1", str(path))
    proc = run_cli("analyze", "report", str(path), "-o", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    result = json.loads((tmp_path / "out" / "analysis.json").read_text())
    if kind in ("rotated", "odd_size"):
        assert result["cuts"] == truth["cuts"]
    else:
        assert result["cuts"] == [] and len(result["shots"]) == 1
