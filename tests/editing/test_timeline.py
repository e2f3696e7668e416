"""The timeline builder, the checked plan and the exports (nothing renders here)."""

from __future__ import annotations

import opentimelineio as otio
import pytest

from animstudio.editing.export import export_timeline
from animstudio.editing.render_plan import make_plan
from animstudio.editing.schema import ClipEffects, Output
from animstudio.editing.timeline import Edit
from animstudio.errors import InvalidInputError, StudioError


@pytest.fixture
def edit(sample_clip):
    clip, _ = sample_clip
    e = Edit(Output(width=320, height=180, fps=24))
    e.cut(clip, 80 / 24, 110 / 24)
    e.cut(clip, 190 / 24, 230 / 24)
    e.cut(clip, 8 / 24, 28 / 24)
    e.add_transition(2, "dip_black", 0.5)
    e.add_text("Hello", 0.5, 2.0)
    e.add_caption("A caption", 1.0, 2.5)
    return e


def test_builder_makes_an_otio_timeline(edit):
    tl = edit.timeline
    assert [c.source_range.start_time.value for c in edit.clips] == [80, 190, 8]
    assert edit.duration_s == pytest.approx(90 / 24)        # transitions do not change the length (OTIO)
    t = next(i for i in edit.main if isinstance(i, otio.schema.Transition))
    assert (t.in_offset.value, t.out_offset.value) == (6, 6)
    assert {tr.name for tr in tl.video_tracks()} >= {"main", "overlay", "captions"}


def test_plan_in_output_frames(edit):
    plan = make_plan(edit.timeline)
    assert [(p.out_start, p.out_frames) for p in plan.pieces] == [(0, 30), (30, 40), (70, 20)]
    assert plan.pieces[2].join == ("dip_black", 12) and (plan.pieces[1].tail, plan.pieces[2].head) == (6, 6)
    assert [len(s) for s in plan.segments()] == [1, 2]      # the cut before clip 1 is where files join
    assert plan.frames == 90 and plan.texts[0].start_s == 0.5 and plan.captions[0][2].text == "A caption"


def test_speed_keeps_the_source_range_and_shortens_the_clip(sample_clip):
    clip, _ = sample_clip
    e = Edit(Output(fps=24))
    e.cut(clip, 1.0, 3.0, effects=ClipEffects(speed=2.0))
    assert e.duration_s == pytest.approx(1.0)
    assert any(isinstance(x, otio.schema.LinearTimeWarp) and x.time_scalar == 2.0 for x in e.clips[0].effects)
    piece = make_plan(e.timeline).pieces[0]
    assert (piece.src_start_s, piece.src_s, piece.out_frames) == (pytest.approx(1.0), pytest.approx(2.0), 24)


def test_overlapping_text_goes_on_a_new_layer(edit):
    edit.add_text("Second", 1.0, 3.0)
    names = [t.name for t in edit.timeline.video_tracks()]
    assert "overlay" in names and "overlay 2" in names
    assert len(make_plan(edit.timeline).texts) == 2


def test_save_and_load_round_trip(edit, tmp_path):
    path = edit.save(tmp_path / "cut.otio")
    again = Edit.load(path)
    assert again.output == edit.output
    assert [c.source_range for c in again.clips] == [c.source_range for c in edit.clips]


def _shown(timeline: otio.schema.Timeline, frame: int) -> tuple[str, int]:
    """(file name, source frame) the main track shows at ``frame`` (outside transitions)."""
    for clip in timeline.video_tracks()[0].find_clips(shallow_search=True):
        rng = clip.range_in_parent()
        if rng.start_time.to_frames() <= frame < rng.end_time_exclusive().to_frames():
            url = clip.media_reference.target_url
            return url.rsplit("/", 1)[-1], clip.source_range.start_time.to_frames() + frame - rng.start_time.to_frames()
    raise AssertionError(f"nothing at frame {frame}")


@pytest.mark.parametrize("fmt,suffix", [("otio", ".otio"), ("edl", ".edl"), ("fcp7xml", ".xml")])
def test_every_export_reimports(edit, tmp_path, fmt, suffix):
    path = export_timeline(edit.timeline, tmp_path / f"cut{suffix}", fmt)
    back = otio.adapters.read_from_file(str(path), rate=24) if fmt == "edl" else otio.adapters.read_from_file(str(path))
    assert back.duration().to_frames() == 90
    # the same source frame at every record frame outside the dissolve (frames 64-75); an EDL writes a
    # centred dissolve as one that starts at the cut, so its clips are cut differently around it
    for frame in (0, 15, 29, 30, 50, 63, 76, 80, 89):
        assert _shown(back, frame) == _shown(edit.timeline, frame), frame
    transitions = [i for i in back.video_tracks()[0] if isinstance(i, otio.schema.Transition)]
    assert len(transitions) == 1
    assert (transitions[0].in_offset + transitions[0].out_offset).to_frames() == 12
    if fmt != "edl":  # EDLs carry the main cut only
        assert len(back.video_tracks()) == len(edit.timeline.video_tracks())


def test_bad_input(sample_clip, tmp_path):
    clip, _ = sample_clip
    e = Edit(Output(fps=24))
    with pytest.raises(InvalidInputError, match="empty timeline|no clips"):
        make_plan(e.timeline)
    e.cut(clip, 1.0, 2.0)
    with pytest.raises(StudioError, match="does not exist"):
        e.cut(tmp_path / "nope.mp4", 0, 1)
    with pytest.raises(InvalidInputError, match="start before the end"):
        e.cut(clip, 3.0, 2.0)
    with pytest.raises(InvalidInputError, match="unknown transition"):
        e.add_transition(0, "sparkles")
    with pytest.raises(ValueError):
        ClipEffects(speed=0)
    e.clips[0].source_range = otio.opentime.TimeRange(otio.opentime.RationalTime(24 * 11, 24),
                                                      otio.opentime.RationalTime(48, 24))
    with pytest.raises(InvalidInputError, match=r"asks for 11\.00-13\.00 s .* 12\.00 s long"):
        make_plan(e.timeline)
    e.clips[0].source_range = otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24),
                                                      otio.opentime.RationalTime(-5, 24))
    with pytest.raises(InvalidInputError, match="negative duration"):
        make_plan(e.timeline)


@pytest.fixture(scope="module")
def sample_analysis(sample_clip):
    from animstudio.analysis.analyze import analyze

    return analyze(sample_clip[0])


def test_from_analysis_cuts_one_clip_per_shot(sample_analysis, sample_clip, tmp_path):
    _, truth = sample_clip
    path = tmp_path / "analysis.json"
    path.write_text(sample_analysis.model_dump_json())
    edit = Edit.from_analysis(path)
    assert [c.source_range.start_time.to_frames() for c in edit.clips] == [s["start"] for s in truth["shots"]]
    assert edit.duration_s == pytest.approx(12.0)
    assert {m.name for m in edit.main.markers} >= {"pan_right", "zoom_in"}


def test_reframe_follows_the_subject(sample_analysis, sample_clip):
    clip, _ = sample_clip
    edit = Edit(Output(width=640, height=360, fps=24))
    edit.cut(clip, 190 / 24, 230 / 24)   # the two-shot
    edit.reframe("9:16", follow=sample_analysis, height=640)
    assert (edit.output.width, edit.output.height, edit.output.fit) == (360, 640, "crop")
    comp = next(c for c in sample_analysis.composition if c.shot == 4)
    assert ClipEffects.model_validate(edit.clips[0].metadata["animstudio"]).center == tuple(comp.subject_centre)
    with pytest.raises(InvalidInputError, match="width:height"):
        edit.reframe("tall")
