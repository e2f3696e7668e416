"""Per-frame liveliness: a hard cut is the biggest picture change around it; silence has no energy."""

from __future__ import annotations

import numpy as np

from animstudio.analysis import energy_per_frame, extract_features, liveliness, motion_per_frame


def test_cuts_move_most_and_the_sum_is_z_scored(sample_clip):
    clip, truth = sample_clip
    feats = extract_features(clip, keep_frames=False)
    motion = motion_per_frame(feats)
    assert motion.shape == (feats.n,) and motion[0] == 0.0
    for cut in truth["cuts"]:
        around = motion[max(1, cut - 5):cut + 6]
        assert motion[cut] == around.max(), cut
    energy = energy_per_frame(clip, feats)
    assert energy.shape == (feats.n,) and (energy >= 0).all()
    lively = liveliness(clip, feats)
    assert abs(lively.mean()) < 1e-6 and 1.0 < lively.std() <= 2.0 + 1e-9   # two z-scores summed


def test_a_clip_without_sound_has_no_energy(sample_clip, tmp_path):
    import subprocess

    from animstudio.media.ffmpeg import ffmpeg_exe

    clip = tmp_path / "quiet.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(sample_clip[0]), "-t", "3", "-an", "-c:v", "copy",
                    str(clip)], check=True)
    feats = extract_features(clip, keep_frames=False)
    assert not np.any(energy_per_frame(clip, feats))
