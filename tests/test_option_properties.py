"""Property-based checks of the option models: whatever a user, a config file or an API request
passes, the value validates or raises the studio's own one-line error, never anything else."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from animstudio.errors import StudioError  # noqa: E402

ANY = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats()
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
NUMBERS = st.floats() | st.integers(min_value=-(2**70), max_value=2**70) | st.sampled_from(
    ["nan", "inf", "-1", "1e400", "0", "3", ""])
FEW = settings(max_examples=150, deadline=None)


def _one_line(exc: StudioError) -> None:
    assert "\n" not in str(exc) and str(exc).strip()


def _finite(value: object) -> None:
    if isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, dict):
        for v in value.values():
            _finite(v)
    elif isinstance(value, list):
        for v in value:
            _finite(v)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    from animstudio.media.sample import make_sample

    out = tmp_path_factory.mktemp("props") / "clip.mp4"
    make_sample(out, seconds=6, seed=1)
    return str(out)


@FEW
@given(params=st.dictionaries(st.sampled_from(["seed", "max_minutes", "duration_s", "preset", "characters",
                                               "brief", "narrate", "look", "model", "bogus"]),
                              ANY | NUMBERS, max_size=4))
def test_job_parameters(clip, params):
    from animstudio.pipelines import get_pipeline

    try:
        pipeline = get_pipeline("parody", {"clip": clip, **params})
        pipeline.check()
    except StudioError as exc:
        _one_line(exc)
        return
    checked = pipeline.options.model_dump(mode="json")
    _finite(checked)
    assert 0 <= checked["seed"] < 2**32 and checked["clip"] == str(Path(clip).resolve())
    assert set(params) <= set(checked)   # a name that is not a parameter was refused above


@FEW
@given(section=st.sampled_from(["llm", "media", "jobs", "voice", "knowledge"]),
       key=st.sampled_from(["threads", "decode_threads", "max_concurrent", "default_model", "bogus", "cache"]),
       value=ANY | NUMBERS)
def test_settings(section, key, value):
    from animstudio.config import load_settings

    try:
        settings_ = load_settings(**{section: {key: value}})
    except StudioError as exc:
        _one_line(exc)
        return
    _finite(settings_.model_dump(mode="json"))


@FEW
@given(options=st.dictionaries(st.sampled_from(["min_seconds", "max_seconds", "min_snr_db", "same_speaker",
                                                "sample_rate", "language", "names", "bogus"]),
                               ANY | NUMBERS, max_size=4))
def test_voice_dataset_options(options):
    from animstudio.voice.dataset.options import parse_options

    try:
        parsed = parse_options(options)
    except StudioError as exc:
        _one_line(exc)
        return
    _finite(parsed.model_dump(mode="json"))
    assert parsed.min_seconds <= parsed.max_seconds


@FEW
@given(detector=st.sampled_from(["animation", "content", "adaptive", "threshold", "histogram", "hash"]),
       options=st.dictionaries(st.text(max_size=12) | st.sampled_from(["threshold", "min_scene_len", "cut_blocks"]),
                               ANY | NUMBERS, max_size=3))
def test_detector_options(detector, options):
    from animstudio.analysis.scenes import make_detector

    try:
        made = make_detector(detector, options)
    except StudioError as exc:
        _one_line(exc)
        return
    _finite(made.options.model_dump(mode="json"))
