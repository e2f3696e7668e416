"""Bad input to `animstudio edit`: a one-line error that says what to do, exit 1, nothing written.

Also a property: any timeline a user or another editor could hand us (arbitrary source ranges:
negative, zero, NaN, infinite, huge values and rates; arbitrary settings under
``metadata["animstudio"]``) either plans or fails with a StudioError, never with a ValueError,
TypeError, ZeroDivisionError or OverflowError.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from animstudio.editing.render_plan import make_plan
from animstudio.editing.schema import META, Output
from animstudio.editing.timeline import Edit, media_url
from animstudio.errors import InvalidInputError, StudioError
from animstudio.media import probe, read_frame
from conftest import assert_bad_input, ffmpeg, run_cli, tree


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 s clip with sound, and beside it a one-frame MP4 and a one-frame GIF."""
    folder = tmp_path_factory.mktemp("media")
    clip = folder / "clip.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x36:rate=24", "-f", "lavfi", "-i", "sine=frequency=440",
           "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(clip))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x180:rate=24", "-frames:v", "1", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", str(folder / "one.mp4"))
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x180:rate=24", "-frames:v", "1", str(folder / "one.gif"))
    return clip


def _timeline(tmp_path: Path, source: Path, seconds: float = 2.0) -> Path:
    e = Edit(Output(width=320, height=180, fps=24))
    e.cut(source, 0.0, seconds)
    return e.save(tmp_path / "cut.otio")


# -- one-frame sources: a held frame for the clip's length ---------------------------------------------------

@pytest.mark.parametrize("name", ["one.mp4", "one.gif"])
def test_a_one_frame_source_renders_as_a_held_frame(media, tmp_path, name):
    source = media.parent / name
    timeline = _timeline(tmp_path, source)
    proc = run_cli("edit", "check", str(timeline), "--json")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "held.mp4"
    proc = run_cli("edit", "render", str(timeline), "-o", str(out), "--preset", "draft")
    assert proc.returncode == 0, proc.stderr
    info = probe(out)
    assert info.frame_count == 48 and info.duration_s == pytest.approx(2.0, abs=0.05)
    first, last = (read_frame(out, t).image.astype(float) for t in (0.0, 1.95))
    assert first.mean() > 40 and np.abs(first - last).mean() < 2   # the picture, held to the end


def test_a_one_frame_video_as_an_overlay_image(media, tmp_path):
    from animstudio.editing.render import render

    e = Edit(Output(width=320, height=180, fps=24))
    e.gap(2.0)
    e.overlay_image(media.parent / "one.mp4", 0.5, 1.5, width=0.5)
    out = tmp_path / "over.mp4"
    assert render(e.timeline, out, preset="draft").frames == 48
    before, during, after = (read_frame(out, t).image.mean() for t in (0.2, 1.0, 1.8))
    assert before < 5 and during > 20 and after < 5


# -- export: the format and the file name agree ----------------------------------------------------------------

@pytest.mark.parametrize("fmt,name,needle", [("edl", "x.xml", "named like fcp7xml"),
                                             ("fcp7xml", "x.edl", "named like edl"),
                                             ("otio", "x.xml", "pass --format fcp7xml")])
def test_export_refuses_a_format_its_file_name_contradicts(media, tmp_path, fmt, name, needle):
    timeline = _timeline(tmp_path, media)
    before = tree(tmp_path)
    proc = run_cli("edit", "export", str(timeline), "-f", fmt, "-o", str(tmp_path / name))
    assert_bad_input(proc, needle)
    assert tree(tmp_path) == before


def test_export_format_from_the_name_or_with_an_unknown_suffix(media, tmp_path):
    timeline = _timeline(tmp_path, media)
    assert run_cli("edit", "export", str(timeline), "-o", str(tmp_path / "a.edl")).returncode == 0
    proc = run_cli("edit", "export", str(timeline), "-f", "edl", "-o", str(tmp_path / "a.txt"))
    assert proc.returncode == 0, proc.stderr
    assert "001" in (tmp_path / "a.txt").read_text()


# -- a negative clip duration: the same one-line error from check and export -----------------------------------

def test_a_negative_clip_duration_is_one_error_for_check_and_export(media, tmp_path):
    timeline = otio.adapters.read_from_file(str(_timeline(tmp_path, media)))
    clip = next(iter(timeline.find_clips()))
    clip.source_range = otio.opentime.TimeRange(clip.source_range.start_time, otio.opentime.RationalTime(-24, 24))
    path = tmp_path / "negative.otio"
    otio.adapters.write_to_file(timeline, str(path))
    before = tree(tmp_path)
    message = assert_bad_input(run_cli("edit", "check", str(path)), "negative duration", "give it a positive one")
    for fmt, name in (("edl", "out.edl"), ("fcp7xml", "out.xml"), ("otio", "out.otio")):
        out = tmp_path / name
        assert assert_bad_input(run_cli("edit", "export", str(path), "-f", fmt, "-o", str(out))) == message
    assert tree(tmp_path) == before


# -- options: values checked before anything slow -------------------------------------------------------------

@pytest.mark.parametrize("aspect,needle", [("0:1", "whole numbers above 0"), ("nan:1", "whole numbers above 0"),
                                           ("9:16.5", "whole numbers above 0"), ("16/9", "e.g. 9:16, 1:1"),
                                           ("1:1000", "16 to 8192 pixels")])
def test_render_refuses_an_aspect_that_is_not_a_ratio(media, tmp_path, aspect, needle):
    timeline = _timeline(tmp_path, media)
    before = tree(tmp_path)
    proc = run_cli("edit", "render", str(timeline), "-o", str(tmp_path / "r.mp4"), "--aspect", aspect)
    assert_bad_input(proc, needle)
    assert tree(tmp_path) == before


def test_any_whole_number_aspect_reframes(media):
    sizes = {}
    for aspect in ("9:16", "3:7", "4:3", " 1 : 1 "):
        e = Edit(Output(width=1280, height=720, fps=24))
        e.reframe(aspect)
        sizes[aspect] = (e.output.width, e.output.height)
    assert sizes == {"9:16": (720, 1280), "3:7": (548, 1280), "4:3": (960, 720), " 1 : 1 ": (720, 720)}
    assert "WIDTH:HEIGHT" in run_cli("edit", "render", "--help").stdout


@pytest.mark.parametrize("args,needle", [
    (["--style", "bogus"], "unknown style 'bogus'"),
    (["--transition", "bogus"], "unknown transition 'bogus'"),
    (["--music", "{tmp}/gone.mp3"], "gone.mp3 does not exist"),
    (["--music", "{clip}.png"], "no audio stream"),
])
def test_highlights_checks_its_options_before_the_analysis(media, tmp_path, args, needle):
    # the video does not exist: an option named in the error was checked before anything read the video
    ffmpeg("-f", "lavfi", "-i", "color=size=32x32", "-frames:v", "1", str(media.parent / "clip.mp4.png"))
    args = [a.format(tmp=tmp_path, clip=media) for a in args]
    before = tree(tmp_path)
    proc = run_cli("edit", "highlights", str(tmp_path / "missing.mp4"), "-o", str(tmp_path / "reel.mp4"), *args)
    assert_bad_input(proc, needle)
    assert tree(tmp_path) == before


@pytest.mark.parametrize("command,args,needle", [
    ("render", ["--captions", "loud"], "'loud' is not one of 'both', 'burn', 'sidecar', 'none'"),
    ("render", ["--preset", "ultra"], "'ultra' is not one of 'draft', 'medium', 'high'"),
    ("highlights", ["--preset", "ultra"], "'ultra' is not one of 'draft', 'medium', 'high'"),
])
def test_a_choice_not_offered_is_a_usage_error_before_reading_the_input(tmp_path, command, args, needle):
    proc = run_cli("edit", command, str(tmp_path / "missing"), "-o", str(tmp_path / "r.mp4"), *args)
    assert_bad_input(proc, needle, code=2)
    assert tree(tmp_path) == {}


# -- any timeline plans or is refused with a StudioError ------------------------------------------------------

def test_a_time_at_an_absurd_rate_is_refused_before_it_overflows(media):
    """A media range counted at 1e300 per second: rescaling the clip's place into it gave infinity."""
    rt = otio.opentime.RationalTime
    tl = otio.schema.Timeline(name="t")
    main = otio.schema.Track(name="main", kind=otio.schema.TrackKind.Video)
    main.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(rt(0, 24), rt(48, 24))))
    ref = otio.schema.ExternalReference(target_url=media_url(media),
                                        available_range=otio.opentime.TimeRange(rt(0, 1e300), rt(0, 1e300)))
    main.append(otio.schema.Clip(name="c", media_reference=ref))
    tl.tracks.append(main)
    with pytest.raises(InvalidInputError, match=r"^clip 'c' on track 'main': its media range start is at the rate "
                                                r"1e\+300; give its times a rate above 0 and at most 1,000,000"):
        make_plan(tl)


def test_metadata_that_is_not_a_mapping_is_refused(media, tmp_path):
    timeline = otio.adapters.read_from_file(str(_timeline(tmp_path, media)))
    timeline.metadata[META] = ["width", 5]
    with pytest.raises(InvalidInputError, match="not a mapping"):
        make_plan(timeline)


WILD = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 0.0, -0.0, -1, -24, 1e-300, 1e300, 2**63, -(2**63)]),
)
RATES = st.one_of(st.sampled_from([24.0, 25.0, 30000 / 1001, 48000.0, 0.0, -24.0, 1e-300, 1e300]),
                  st.floats(allow_nan=True, allow_infinity=True))
# half the timelines have plausible times (frames of the 2 s test clip), so that the checks after
# the times run too; the other half any times at all
SANE = st.one_of(st.integers(0, 60), st.floats(0, 60))
SANE_RATES = st.sampled_from([24.0, 25.0, 12.0, 30000 / 1001])
# metadata holds what OTIO can store: integers are C++ int64
SCALARS = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True),
                    st.integers(min_value=-(2**63), max_value=2**63 - 1), st.sampled_from([0, -1, 1e300, -1e-300]),
                    st.text(max_size=8))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=6)
# the keys the schema knows, so that the values reach its checks (and some it does not know)
KEYS = st.sampled_from(["width", "height", "fps", "sample_rate", "fit", "background", "styles", "lut", "loudness",
                        "speed", "reverse", "freeze", "zoom", "ken_burns", "center", "volume_db", "mute", "x", "y",
                        "w", "h", "scale", "start", "end", "opacity", "fade_s", "role", "loop", "duck", "duck_db",
                        "envelope", "fade_in_s", "fade_out_s", "kind", "text", "words", "bogus"])
META_DICTS = st.one_of(st.none(), st.none(), st.dictionaries(KEYS, VALUES, max_size=4), VALUES)


def _range(start: float, duration: float, rate: float) -> otio.opentime.TimeRange:
    rt = otio.opentime.RationalTime
    return otio.opentime.TimeRange(rt(start, rate), rt(duration, rate))


@st.composite
def timelines(draw: st.DrawFn, media: Path) -> otio.schema.Timeline:
    wild = draw(st.booleans())
    numbers, rates = (WILD, RATES) if wild else (SANE, SANE_RATES)
    tl = otio.schema.Timeline(name="t")
    if (out := draw(META_DICTS)) is not None:
        tl.metadata[META] = out
    main = otio.schema.Track(name="main", kind=otio.schema.TrackKind.Video)
    if (track_meta := draw(META_DICTS)) is not None:
        main.metadata[META] = track_meta
    tl.tracks.append(main)
    for i in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["clip", "clip", "gap", "transition"]))
        rate = draw(rates)
        rng = _range(draw(numbers), draw(numbers), rate)
        if kind == "gap":
            main.append(otio.schema.Gap(source_range=rng))
            continue
        if kind == "transition":
            main.append(otio.schema.Transition(name=draw(st.sampled_from(["fade", "bogus", ""])),
                                               in_offset=otio.opentime.RationalTime(draw(numbers), rate),
                                               out_offset=otio.opentime.RationalTime(draw(numbers), rate)))
            continue
        ref = otio.schema.ExternalReference(target_url=media_url(media),
                                            available_range=_range(0, draw(numbers), draw(rates)))
        clip = otio.schema.Clip(name=f"c{i}", media_reference=ref,
                                source_range=draw(st.one_of(st.just(rng), st.none())))
        if (clip_meta := draw(META_DICTS)) is not None:
            clip.metadata[META] = clip_meta
        if draw(st.booleans()):
            speed = draw(st.one_of(numbers, st.sampled_from([0.5, 2.0])))
            clip.effects.append(otio.schema.LinearTimeWarp(time_scalar=speed))
        elif draw(st.booleans()):
            clip.effects.append(otio.schema.FreezeFrame())
        main.append(clip)
    if draw(st.booleans()):   # text on top, its parameters arbitrary
        overlay = otio.schema.Track(name="overlay", kind=otio.schema.TrackKind.Video)
        rng = _range(0, draw(numbers), draw(rates))
        params = draw(st.one_of(st.just({"text": "hi"}), st.dictionaries(KEYS, VALUES, max_size=4)))
        ref = otio.schema.GeneratorReference(generator_kind=draw(st.sampled_from(["text", "caption"])),
                                             parameters=params, available_range=rng)
        overlay.append(otio.schema.Clip(name="text", media_reference=ref, source_range=rng))
        tl.tracks.append(overlay)
    if draw(st.booleans()):   # an audio track with arbitrary settings and range
        audio = otio.schema.Track(name="music", kind=otio.schema.TrackKind.Audio)
        if (audio_meta := draw(META_DICTS)) is not None:
            audio.metadata[META] = audio_meta
        ref = otio.schema.ExternalReference(target_url=media_url(media))
        audio.append(otio.schema.Clip(name="a", media_reference=ref,
                                      source_range=_range(draw(numbers), draw(numbers), draw(rates))))
        tl.tracks.append(audio)
    return tl


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_timeline_plans_or_fails_with_a_studio_error(media, data):
    path = media.parent / "t.otio"
    try:
        otio.adapters.write_to_file(data.draw(timelines(media)), str(path))
    except Exception:  # noqa: BLE001 - what OTIO itself cannot write, no user can hand us
        event("not writable")
        return
    try:
        make_plan(Edit.load(path).timeline)
        event("valid")
    except StudioError as exc:
        event(f"refused: {str(exc).split(';')[0][-40:]}")
        assert str(exc) and "\n" not in str(exc)
