"""The sample clip's ground truth matches what is in the rendered file, frame for frame."""

from __future__ import annotations

import numpy as np

from animstudio.media import decode_audio, iter_frames, probe


def frame_stack(path) -> np.ndarray:
    return np.stack([f.image.astype(np.float32) for f in iter_frames(path, width=160, fmt="gray")])


def phase_shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Translation (dx, dy) that maps a onto b, by phase correlation."""
    fa, fb = np.fft.fft2(a - a.mean()), np.fft.fft2(b - b.mean())
    r = fb * np.conj(fa)
    corr = np.fft.ifft2(r / (np.abs(r) + 1e-9)).real
    dy, dx = np.unravel_index(np.argmax(corr), corr.shape)
    h, w = corr.shape
    return (dx - w if dx > w // 2 else dx), (dy - h if dy > h // 2 else dy)


def test_probe_matches_truth(sample_clip):
    clip, truth = sample_clip
    info = probe(clip)
    assert info.frame_count == truth["frame_count"] == 288
    assert info.fps == truth["fps"] == 24
    assert (info.width, info.height) == (truth["width"], truth["height"])
    assert abs(info.duration_s - truth["duration_s"]) < 0.05
    assert not info.vfr
    assert info.audio[0].sample_rate == truth["sample_rate"]


def test_cuts_flash_and_dissolve_are_where_the_truth_says(sample_clip):
    clip, truth = sample_clip
    frames = frame_stack(clip)
    assert len(frames) == truth["frame_count"]
    diff = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2))  # diff[i]: change from frame i to i+1
    flash = truth["flashes"][0]
    # a flash is two big jumps around one frame, with the frames either side alike
    assert diff[flash - 1] > 40 and diff[flash] > 40
    assert np.abs(frames[flash - 1] - frames[flash + 1]).mean() < 5
    jumps = {i + 1 for i in np.flatnonzero(diff > 25)} - {flash, flash + 1}
    assert sorted(jumps) == truth["cuts"]
    # the dissolve: no jump, but a steady blend from the outgoing to the incoming shot
    t = truth["transitions"][0]
    assert t["type"] == "dissolve"
    span = diff[t["start"] - 1: t["end"]]
    assert span.max() < 25 and span.mean() > 1.5
    a, b = frames[t["start"] - 1], frames[t["end"]]
    mid = (t["start"] + t["end"]) // 2
    alpha = (mid - t["start"] + 1) / (t["end"] - t["start"] + 1)
    err = lambda x: float(np.abs(frames[mid] - x).mean())  # noqa: E731
    assert err((1 - alpha) * a + alpha * b) < 0.5 * min(err(a), err(b))


def test_camera_motion_per_shot(sample_clip):
    clip, truth = sample_clip
    frames = frame_stack(clip)
    scale = 160 / truth["width"]
    for shot in truth["shots"]:
        inner = range(shot["start"] + 2, shot["end"] - 2)
        if shot["camera"] == "pan_right":
            # the character walks with the camera: measure the background in the top half (sky, roofs, trees)
            shifts = [phase_shift(frames[i][:45], frames[i + 1][:45])[0] for i in inner
                      if i + 1 < truth["transitions"][0]["start"]]
            expected = shot["content_dx_px_per_frame"] * scale
            assert np.median(shifts) < 0
            assert abs(np.median(shifts) - expected) <= 1.0
        elif shot["camera"] == "zoom_in":
            assert shot["scale_end"] > shot["scale_start"] >= 1.0
            # zooming in magnifies the character: its (dark-outlined) area grows
            first, last = frames[shot["start"] + 8], frames[shot["end"] - 1]
            assert (last < 60).sum() > 1.3 * (first < 60).sum()
        elif shot["kind"] in ("title",):
            assert np.abs(np.diff(frames[shot["start"]:shot["end"]], axis=0)).mean() < 1


def test_speech_segments_are_louder_than_the_gaps(sample_clip):
    clip, truth = sample_clip
    audio, rate = decode_audio(clip, sample_rate=16000)
    assert abs(len(audio) / rate - truth["duration_s"]) < 0.05
    speech = np.zeros(len(audio), bool)
    for seg in truth["speech"]:
        speech[int(seg["start_s"] * rate): int(seg["end_s"] * rate)] = True
    rms = lambda x: float(np.sqrt(np.mean(x ** 2)))  # noqa: E731
    assert rms(audio[speech]) > 30 * rms(audio[~speech])
    assert {seg["speaker"] for seg in truth["speech"]} == {"A", "B"}


def test_seed_changes_content_not_structure(tmp_path):
    from animstudio.media.sample import make_sample

    a = make_sample(tmp_path / "a.mp4", seconds=6, seed=1)
    b = make_sample(tmp_path / "b.mp4", seconds=6, seed=2)
    assert a.cuts == b.cuts and a.transitions == b.transitions
    assert a.speech != b.speech
    assert probe(tmp_path / "a.mp4").frame_count == a.frame_count == 144
