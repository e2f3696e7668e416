"""Composition and temporal coherence on the sample clip."""

from __future__ import annotations

from animstudio.analysis.coherence import coherence
from animstudio.analysis.composition import composition
from animstudio.analysis.features import extract_features
from animstudio.analysis.scenes import detect_scenes
from conftest import ffmpeg


def test_composition_of_the_sample_shots(sample_features):
    feats, truth = sample_features
    result = detect_scenes(features=feats)
    comps = composition(feats, result.shots)
    title, talk, pan, _, _, closeup = comps
    assert title.palette[0].hex == "#3c1e5a" or title.palette[0].hex.startswith("#3")  # the purple card
    assert title.palette[0].share > 0.7
    assert closeup.subject_box[3] > talk.subject_box[3] > pan.subject_box[3]  # close-up > medium > walker
    assert closeup.shot_size in ("close_up", "extreme_close_up") and pan.shot_size in ("wide", "extreme_wide")
    assert 0.3 < talk.subject_centre[0] < 0.7  # the talking character stands in the middle
    assert closeup.brightness > title.brightness and closeup.saturation > 0.5
    assert all(0 <= c.symmetry <= 1 and 0 <= c.thirds_score <= 1 for c in comps)


def test_flicker_lowers_coherence(tmp_path, sample_clip, sample_features):
    clip, _ = sample_clip
    feats, _ = sample_features
    steady = coherence(feats, detect_scenes(features=feats).shots)
    flicker = tmp_path / "flicker.mp4"
    ffmpeg("-i", str(clip), "-vf", "eq=brightness='0.08*mod(n,2)':eval=frame", "-an", "-c:v", "libx264",
           "-preset", "ultrafast", str(flicker))
    flick_feats = extract_features(flicker)
    flickering = coherence(flick_feats, detect_scenes(features=flick_feats).shots)
    assert steady.overall > 0.7 and flickering.overall < steady.overall - 0.3
    assert flickering.flicker > 5 * steady.flicker
    assert all(0 <= s.score <= 1 for s in steady.shots)
