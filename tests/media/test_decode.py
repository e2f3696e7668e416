"""Frame and audio decoding: sizes, formats, timestamps, seeking and sample rates."""

from __future__ import annotations

import numpy as np
import pytest

from animstudio.errors import InvalidInputError
from animstudio.media import decode_audio, iter_frames, read_frame


def test_every_frame_once_with_timestamps(sample_clip):
    clip, truth = sample_clip
    frames = list(iter_frames(clip, width=320))
    assert [f.index for f in frames] == list(range(truth["frame_count"]))
    assert frames[0].image.shape == (180, 320, 3) and frames[0].image.dtype == np.uint8
    assert frames[48].time_s == pytest.approx(2.0, abs=1e-3)


def test_gray_bgr_and_explicit_size(sample_clip):
    clip, _ = sample_clip
    gray = next(iter_frames(clip, width=64, height=64, fmt="gray"))
    assert gray.image.shape == (64, 64)
    rgb = next(iter_frames(clip, height=90, fmt="rgb24")).image
    bgr = next(iter_frames(clip, height=90, fmt="bgr24")).image
    assert rgb.shape == (90, 160, 3)
    delta = np.abs(rgb[..., ::-1].astype(int) - bgr)
    assert delta.mean() < 2 and delta.max() <= 6  # the same picture, converter rounding aside
    # the title card is purple: more red and blue than green
    r, g, b = rgb[5, 5].astype(int)
    assert b > g and r > g


def test_seek_keeps_frame_numbers(sample_clip):
    clip, truth = sample_clip
    frames = list(iter_frames(clip, width=160, fmt="gray", start_s=5.0, end_s=6.0))
    assert [f.index for f in frames] == list(range(120, 144))
    full = {f.index: f.image for f in iter_frames(clip, width=160, fmt="gray", end_s=6.0)}
    assert all(np.array_equal(f.image, full[f.index]) for f in frames)
    every_third = [f.index for f in iter_frames(clip, width=32, fmt="gray", step=3)]
    assert every_third == list(range(0, truth["frame_count"], 3))


def test_read_frame_finds_the_flash(sample_clip):
    clip, truth = sample_clip
    flash = truth["flashes"][0]
    frame = read_frame(clip, (flash + 0.5) / truth["fps"], width=160)
    assert frame.index == flash
    assert frame.image.mean() > 240  # the impact flash is almost white
    with pytest.raises(InvalidInputError):
        list(iter_frames(clip, step=0))


def test_audio_rates_and_channels(sample_clip, shared_data):
    clip, truth = sample_clip
    mono, rate = decode_audio(clip, sample_rate=16000)
    assert rate == 16000 and mono.ndim == 1 and mono.dtype == np.float32
    assert abs(len(mono) - truth["duration_s"] * 16000) < 16000 * 0.05
    stereo, _ = decode_audio(shared_data / "video" / "big_buck_bunny_0_30.webm", sample_rate=22050, mono=False)
    assert stereo.shape[0] == 2 and abs(stereo.shape[1] / 22050 - 30.0) < 0.1
    part, _ = decode_audio(clip, sample_rate=8000, start_s=2.0, end_s=3.5)
    assert len(part) == 12000
    whole = decode_audio(clip, sample_rate=8000)[0]
    # the same samples, aligned to the sample (the resampler settles within a few samples of a seek)
    err = [np.abs(part[200:4000] - whole[16200 + k:20000 + k]).mean() for k in (-1, 0, 1)]
    assert err[1] < 1e-3 and err[1] < 0.1 * min(err[0], err[2])


def test_frame_numbers_after_a_seek_on_variable_frame_rate(tmp_path, sample_clip):
    from conftest import ffmpeg

    clip, _ = sample_clip
    vfr = tmp_path / "vfr.mp4"
    ffmpeg("-i", str(clip), "-an", "-vf", "setpts='if(lt(N,100),N,100+(N-100)*2)/24/TB'", "-fps_mode", "vfr",
           "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", str(vfr))
    full = [(f.index, f.time_s) for f in iter_frames(vfr, width=32, fmt="gray")]
    later = [(f.index, f.time_s) for f in iter_frames(vfr, width=32, fmt="gray", start_s=8.0)]
    assert later and later == [x for x in full if x[1] >= 8.0 - 1e-6]


def test_rotated_video_comes_upright(tmp_path, sample_clip):
    from conftest import ffmpeg

    clip, _ = sample_clip
    rotated = tmp_path / "rotated.mp4"
    ffmpeg("-display_rotation", "90", "-i", str(clip), "-c", "copy", str(rotated))
    upright = tmp_path / "upright.png"
    ffmpeg("-ss", "3", "-i", str(rotated), "-frames:v", "1", str(upright))  # ffmpeg rotates like players do
    from PIL import Image

    reference = np.asarray(Image.open(upright).convert("RGB")).astype(int)
    ours = read_frame(rotated, 3.0).image
    assert ours.shape == reference.shape == (640, 360, 3)
    assert np.abs(ours.astype(int) - reference).mean() < 2
    assert next(iter_frames(rotated, width=90)).image.shape == (160, 90, 3)


def test_times_outside_the_video(sample_clip):
    clip, truth = sample_clip
    assert read_frame(clip, truth["duration_s"] - 0.01).index == truth["frame_count"] - 1
    with pytest.raises(InvalidInputError, match="is 12.00 s long"):
        read_frame(clip, 30.0)
    for bad in (-1.0, float("inf"), float("nan")):
        with pytest.raises(InvalidInputError, match="0 or more seconds"):
            read_frame(clip, bad)


def test_audio_of_a_stream_that_does_not_start_at_zero(tmp_path):
    from conftest import ffmpeg

    shifted = tmp_path / "shifted.mkv"
    # 1 s of silence then a tone, with every timestamp offset by 10 s
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono:d=1", "-f", "lavfi", "-i",
           "sine=f=440:r=16000:d=2", "-filter_complex", "[0][1]concat=n=2:v=0:a=1", "-output_ts_offset", "10",
           "-c:a", "pcm_s16le", str(shifted))
    part, rate = decode_audio(shifted, sample_rate=16000, start_s=1.0, end_s=2.0)
    assert len(part) == 16000 and np.abs(part).max() > 0.1  # the tone (amplitude 1/8)
    head, _ = decode_audio(shifted, sample_rate=16000, start_s=0.5, end_s=0.9)
    assert np.abs(head).max() < 1e-3
