"""The audio mix, measured on the rendered file: loudness, ducking, placement, loops and fades."""

from __future__ import annotations

import numpy as np
import pytest

from animstudio.editing.render import render
from animstudio.editing.schema import ClipEffects, Output
from animstudio.editing.timeline import Edit
from animstudio.media import decode_audio
from animstudio.media.ffmpeg import ffmpeg_exe
from conftest import ffmpeg


def _loudness(path) -> float:
    import re
    import subprocess

    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-af", "ebur128", "-f", "null",
                          "-"], capture_output=True, text=True).stderr
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", err)[-1])


def _rms_db(samples: np.ndarray, sr: int, a: float, b: float) -> float:
    part = samples[int(a * sr):int(b * sr)]
    return 20 * np.log10(np.sqrt(np.mean(part ** 2)) + 1e-9)


@pytest.fixture(scope="module")
def tone(tmp_path_factory):
    """A steady "music" bed: 3 s of a 440 Hz tone at about -15 dBFS."""
    path = tmp_path_factory.mktemp("mix") / "tone.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=3:sample_rate=48000", "-af", "volume=2", str(path))
    return path


@pytest.mark.parametrize("target", [-14.0, -23.0])
def test_loudness_lands_on_the_target(sample_clip, tmp_path, target):
    clip, _ = sample_clip
    e = Edit(Output(width=320, height=180, fps=24, loudness=target))
    e.cut(clip, 0.0, 6.0)
    out = tmp_path / "loud.mp4"
    render(e.timeline, out, preset="draft")
    assert _loudness(out) == pytest.approx(target, abs=1.0)


def test_music_loops_to_length_and_ducks_under_the_voice(sample_clip, shared_data, tone, tmp_path):
    clip, _ = sample_clip
    voice = tmp_path / "voice.wav"   # 3 s of real speech
    ffmpeg("-i", str(shared_data / "speech" / "faster_whisper" / "jfk.flac"), "-t", "3", str(voice))
    e = Edit(Output(width=320, height=180, fps=24, loudness=None))
    e.cut(clip, 0.0, 9.0)
    e.set_original_audio(volume_db=-60)          # keep the clip's own sound out of the measurement
    e.add_audio(tone, role="music", loop=True, duck=True, duck_db=-15)
    e.add_audio(voice, start_s=4.0, role="voice")
    out = tmp_path / "duck.mp4"
    render(e.timeline, out, preset="draft")
    samples, sr = decode_audio(out, sample_rate=16000)
    music = e.timeline.audio_tracks()[0]
    assert len(samples) == pytest.approx(9 * sr, abs=sr // 24)
    # the 3 s tone, looped, still plays at the end; under the voice it is clearly lower
    tone_only = _rms_db(samples, sr, 7.5, 8.8)
    assert tone_only > -20
    from scipy.signal import butter, sosfilt

    narrow = sosfilt(butter(4, [420, 460], btype="bandpass", fs=sr, output="sos"), samples)
    assert _rms_db(narrow, sr, 4.5, 6.8) < _rms_db(narrow, sr, 1.0, 3.5) - 6
    assert music.name.startswith("music")


def test_fades_and_envelope(sample_clip, tone, tmp_path):
    clip, _ = sample_clip
    e = Edit(Output(width=320, height=180, fps=24, loudness=None))
    e.cut(clip, 0.0, 3.0)
    e.set_original_audio(volume_db=-60)
    e.add_audio(tone, role="music", fade_in_s=1.0, envelope=[(1.5, 0.0), (2.5, -20.0)])
    out = tmp_path / "env.mp4"
    render(e.timeline, out, preset="draft")
    samples, sr = decode_audio(out, sample_rate=16000)
    start, full, low = _rms_db(samples, sr, 0.0, 0.2), _rms_db(samples, sr, 1.1, 1.4), _rms_db(samples, sr, 2.6, 2.9)
    assert start < full - 10                  # fading in
    assert full - low == pytest.approx(20, abs=2.5)


def test_speed_keeps_the_pitch_and_looped_music_does_not_lengthen_the_timeline(tmp_path):
    clip = tmp_path / "tone.mp4"   # 4 s of picture with a steady 440 Hz tone
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=320x180:r=24:d=4", "-f", "lavfi", "-i", "sine=f=440:d=4", "-shortest",
           "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", str(clip))
    long_music = tmp_path / "long.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=f=300:d=10", str(long_music))
    e = Edit(Output(width=320, height=180, fps=24, loudness=None))
    e.cut(clip, 0.0, 4.0, effects=ClipEffects(speed=2.0))          # 2 s on the timeline
    e.add_audio(long_music, role="music", loop=True, volume_db=-40)
    out = tmp_path / "fast.mp4"
    render(e.timeline, out, preset="draft")
    samples, sr = decode_audio(out, sample_rate=16000)
    assert len(samples) == pytest.approx(2 * sr, abs=sr // 24)      # the 10 s music bed did not stretch it
    spectrum = np.abs(np.fft.rfft(samples[sr // 4: sr + sr // 4]))
    assert np.fft.rfftfreq(sr, 1 / sr)[np.argmax(spectrum)] == pytest.approx(440, abs=5)   # not 880
