"""Rendering, checked on the output: frame-exact cuts, durations, transitions, effects, overlays."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from animstudio.analysis.scenes import detect_scenes
from animstudio.editing.render import render
from animstudio.editing.schema import ClipEffects, KenBurns, Output, Rect, Zoom
from animstudio.editing.timeline import Edit
from animstudio.errors import CancelledError
from animstudio.media import iter_frames, probe
from conftest import ffmpeg

SMALL = Output(width=320, height=180, fps=24, loudness=None)


def _gray(path, width=64) -> np.ndarray:
    return np.array([f.image.astype(np.float32) for f in iter_frames(path, width=width, fmt="gray")])


def _nearest(frame: np.ndarray, source: np.ndarray, around: int, reach: int = 3) -> int:
    """The source frame (within ``reach`` of ``around``) that looks most like ``frame``."""
    lo, hi = max(0, around - reach), min(len(source), around + reach + 1)
    return lo + int(np.argmin([np.abs(source[i] - frame).mean() for i in range(lo, hi)]))


@pytest.fixture(scope="module")
def cut_render(sample_clip, tmp_path_factory):
    clip, _ = sample_clip
    e = Edit(SMALL)
    ranges = [(80, 110), (190, 230), (8, 28), (130, 180)]  # pan, two-shot, title, zoom (source frames)
    for a, b in ranges:
        e.cut(clip, a / 24, b / 24)
    out = tmp_path_factory.mktemp("render") / "cut.mp4"
    result = render(e.timeline, out, preset="draft", segment_s=1.0)
    return clip, ranges, out, result


def test_duration_is_the_timelines(cut_render):
    _, ranges, out, result = cut_render
    frames = sum(b - a for a, b in ranges)
    info = probe(out)
    assert info.frame_count == frames == result.frames
    assert info.duration_s == pytest.approx(frames / 24, abs=1 / 24)
    assert info.audio and info.audio[0].duration_s == pytest.approx(frames / 24, abs=1 / 24)
    assert result.segments >= 5  # clips broken into 1 s runs, joined again without re-encoding


def test_cuts_fall_where_the_timeline_says(cut_render):
    _, ranges, out, _ = cut_render
    bounds = list(np.cumsum([b - a for a, b in ranges])[:-1])
    assert detect_scenes(out).cuts == bounds


def test_each_clip_starts_and_ends_on_its_exact_source_frame(cut_render):
    clip, ranges, out, _ = cut_render
    rendered, source = _gray(out), _gray(clip)
    start = 0
    for a, b in ranges:
        if a in range(77, 125) or a in range(125, 187):  # moving shots: every frame differs from the next
            assert _nearest(rendered[start], source, a) == a
            assert _nearest(rendered[start + b - a - 1], source, b - 1) == b - 1
        start += b - a


def _joined(clip, second: tuple[int, int], kind: str, out):
    """24 frames of the pan shot, then ``second`` (source frames), joined by a 0.5 s ``kind``."""
    e = Edit(SMALL)
    e.cut(clip, 80 / 24, 104 / 24)
    e.cut(clip, second[0] / 24, second[1] / 24)
    e.add_transition(1, kind, 0.5)
    render(e.timeline, out, preset="draft")
    return out


def test_a_crossfade_blends_over_its_span(sample_clip, tmp_path):
    out = _joined(sample_clip[0], (140, 170), "fade", tmp_path / "xfade.mp4")
    assert probe(out).frame_count == 54
    result = detect_scenes(out)
    assert result.cuts == []
    (t,) = result.transitions
    assert t.type == "dissolve" and abs(t.start_frame - 18) <= 1 and abs(t.end_frame - 30) <= 1


def test_dip_to_black_goes_through_black(sample_clip, tmp_path):
    frames = _gray(_joined(sample_clip[0], (190, 220), "dip_black", tmp_path / "dip.mp4"))
    assert frames[24].mean() < 20 < frames[17].mean() and frames[31].mean() > 20


def test_speed_reverse_and_freeze(sample_clip, tmp_path):
    clip, _ = sample_clip
    e = Edit(SMALL)
    e.cut(clip, 80 / 24, 104 / 24, effects=ClipEffects(speed=2.0))     # 12 frames: source 80, 82, ...
    e.cut(clip, 130 / 24, 142 / 24, effects=ClipEffects(reverse=True))  # 12 frames: source 141 .. 130
    e.cut(clip, 100 / 24, 112 / 24, effects=ClipEffects(freeze=True))   # 12 frames of source 100
    out = tmp_path / "fx.mp4"
    render(e.timeline, out, preset="draft")
    rendered, source = _gray(out), _gray(clip)
    assert len(rendered) == 36
    assert [_nearest(rendered[k], source, 80 + 2 * k) for k in (1, 5, 10)] == [82, 90, 100]
    assert [_nearest(rendered[12 + k], source, 141 - k) for k in (0, 6, 11)] == [141, 135, 130]
    assert np.abs(rendered[24] - rendered[35]).mean() < 1.0
    assert _nearest(rendered[30], source, 100) == 100


def test_ken_burns_moves_smoothly(tmp_path):
    still = tmp_path / "still.png"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360", "-frames:v", "1", str(still))
    e = Edit(SMALL)
    e.cut(still, 0, 2.0, effects=ClipEffects(ken_burns=KenBurns(start=Rect(), end=Rect(x=0.2, y=0.2, w=0.6, h=0.6),
                                                                   ease=False)))
    out = tmp_path / "kb.mp4"
    render(e.timeline, out, preset="draft")
    frames = _gray(out, width=320)
    steps = np.array([np.abs(frames[i + 1] - frames[i]).mean() for i in range(len(frames) - 1)])
    assert len(frames) == 48
    # every frame moves a little, none stands still then jumps (zoompan's whole-pixel jitter)
    assert steps.min() > 0.25 * np.median(steps)


def test_text_and_image_overlays_show_in_their_time_ranges(sample_clip, tmp_path):
    from PIL import Image

    clip, _ = sample_clip
    sticker = tmp_path / "sticker.png"
    img = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    img.paste((255, 0, 0, 255), (20, 20, 80, 80))   # a red square on a transparent ground
    img.save(sticker)
    e = Edit(SMALL)
    e.cut(clip, 190 / 24, 238 / 24)                   # 2 s of a static shot
    e.overlay_image(sticker, 0.5, 1.5, x=0.25, y=0.5, width=0.25)
    e.add_text("HELLO", 1.0, 2.0, color="#00ff00", animate_in="none", animate_out="none", y=0.15, size=0.15)
    out = tmp_path / "ov.mp4"
    render(e.timeline, out, preset="draft")
    frames = [f.image.astype(int) for f in iter_frames(out)]

    def red(k):
        r, g, b = frames[k][80:100, 70:90].reshape(-1, 3).mean(axis=0)
        return r > 150 and g < 80 and b < 80

    def green(k):
        region = frames[k][10:45, 110:210]
        return int(((region[..., 1] > 180) & (region[..., 0] < 100) & (region[..., 2] < 100)).sum()) > 30

    assert [red(k) for k in (11, 12, 35, 36)] == [False, True, True, False]
    assert [green(k) for k in (23, 24, 47)] == [False, True, True]


def test_sources_of_other_rates_sizes_and_without_audio_are_normalised(sample_clip, tmp_path):
    clip, _ = sample_clip
    odd = tmp_path / "odd.mp4"   # 30 fps, 4:3 anamorphic pixels, 400x300, no audio
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=400x300:r=30:d=2", "-vf", "setsar=4/3", "-an", "-c:v", "libx264",
           "-preset", "ultrafast", str(odd))
    e = Edit(SMALL)
    e.cut(clip, 1.0, 2.0)
    e.cut(odd, 0.0, 1.5)
    out = tmp_path / "mixed.mp4"
    render(e.timeline, out, preset="draft")
    info = probe(out)
    assert (info.width, info.height, info.fps, info.frame_count) == (320, 180, 24.0, 60)
    assert info.sample_aspect_ratio == "1:1" and info.audio[0].channels == 2


def test_cancel_leaves_no_file(sample_clip, tmp_path):
    clip, _ = sample_clip
    e = Edit(Output(width=640, height=360, fps=24))
    e.cut(clip, 0.0, 12.0)
    stop = threading.Event()
    out = tmp_path / "never.mp4"

    def on_progress(event):
        if event.done > 0:
            stop.set()

    with pytest.raises(CancelledError):
        render(e.timeline, out, preset="high", on_progress=on_progress, cancel=stop)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_captions_burn_in_exactly_in_their_ranges_across_segments(sample_clip, tmp_path):
    from animstudio.media.subtitles import read_subtitles

    clip, _ = sample_clip
    e = Edit(SMALL)
    e.cut(clip, 190 / 24, 214 / 24)      # two static shots, two segments: the second starts at frame 24
    e.cut(clip, 250 / 24, 286 / 24)
    e.add_caption("FIRST", 0.5, 1.5)      # frames 12-35: across the join
    e.add_caption("SECOND", 2.0, 2.4)     # frames 48-57
    out = tmp_path / "cap.mp4"
    result = render(e.timeline, out, preset="draft", segment_s=1.0)
    assert result.segments >= 2
    frames = [f.image.astype(int) for f in iter_frames(out)]
    clean = render(e.timeline, tmp_path / "clean.mp4", preset="draft", captions="none")
    plain = [f.image.astype(int) for f in iter_frames(clean.path)]

    def captioned(k):
        region = slice(130, 175), slice(40, 280)
        return np.abs(frames[k][region] - plain[k][region]).max() > 100

    assert [captioned(k) for k in (11, 12, 35, 36, 47, 48, 57, 58)] == [False, True, True, False, False, True, True,
                                                                     False]
    cues = read_subtitles(out.with_suffix(".srt"))
    assert [(c.start_s, c.end_s, c.text) for c in cues] == [(0.5, 1.5, "FIRST"), (2.0, 2.417, "SECOND")]


def test_style_presets_apply_to_the_picture(sample_clip, tmp_path):
    clip, _ = sample_clip
    e = Edit(Output(width=320, height=180, fps=24, loudness=None, styles=["noir", "letterbox"]))
    e.cut(clip, 190 / 24, 214 / 24)
    out = tmp_path / "noir.mp4"
    render(e.timeline, out, preset="draft")
    frame = next(iter_frames(out)).image.astype(int)
    assert (frame.max(axis=-1) - frame.min(axis=-1)).mean() < 4      # black and white
    assert frame[:10].max() < 20 and frame[-10:].max() < 20          # 2.39:1 bars


def test_reframe_to_9_16_crops_around_the_clips_centre(tmp_path):
    halves = tmp_path / "halves.png"   # left half red, right half blue
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=320x360", "-f", "lavfi", "-i", "color=c=blue:s=320x360",
           "-filter_complex", "[0][1]hstack", "-frames:v", "1", str(halves))
    e = Edit(Output(width=640, height=360, fps=24, loudness=None))
    e.cut(halves, 0, 0.5, effects=ClipEffects(center=(0.25, 0.5)))
    e.cut(halves, 0, 0.5, effects=ClipEffects(center=(0.75, 0.5)))
    e.cut(halves, 0, 0.5)
    e.cut(halves, 0, 0.5, effects=ClipEffects(zoom=Zoom(scale=2.5, x=0.75, y=0.5)))   # punched in on blue
    e.reframe("9:16", height=320)
    out = tmp_path / "tall.mp4"
    render(e.timeline, out, preset="draft")
    frames = [f.image.astype(int) for f in iter_frames(out)]
    assert frames[0].shape == (320, 180, 3)
    red, blue = frames[6].mean(axis=(0, 1)), frames[18].mean(axis=(0, 1))
    assert red[0] > 200 and red[2] < 40 and blue[2] > 200 and blue[0] < 40
    middle = frames[30]
    assert middle[:, :60, 0].mean() > 200 and middle[:, -60:, 2].mean() > 200   # centred: both halves
    zoomed = frames[42].reshape(-1, 3)
    assert zoomed[:, 2].min() > 150 and zoomed[:, 0].max() < 80                  # nothing but blue


def test_karaoke_captions_light_each_word_in_its_time_and_webm_output(sample_clip, tmp_path):
    from animstudio.editing.schema import Word

    clip, _ = sample_clip
    e = Edit(Output(width=640, height=360, fps=24, loudness=None))
    e.cut(clip, 190 / 24, 238 / 24)
    e.add_caption("BIG WORDS", 0.0, 2.0, words=[Word(start_s=0.25, end_s=0.75, text="BIG"),
                                               Word(start_s=1.0, end_s=1.5, text="WORDS")])
    out = tmp_path / "karaoke.webm"
    render(e.timeline, out, preset="draft", captions="burn")
    info = probe(out)
    assert info.container.startswith("matroska") and info.video_codec == "vp9" and info.frame_count == 48
    frames = [f.image.astype(int) for f in iter_frames(out)]

    def yellow(k, cols):
        region = frames[k][300:350, cols]
        return int(((region[..., 0] > 180) & (region[..., 1] > 180) & (region[..., 2] < 90)).sum())

    left, right = slice(200, 317), slice(323, 460)   # "BIG" and "WORDS", centred at 320
    assert yellow(3, left) < 5 and yellow(20, left) > 20 and yellow(20, right) < 5   # BIG lit by 0.83 s
    assert yellow(40, right) > 20                                                    # WORDS lit by 1.67 s


def test_text_pops_in_and_fades_out(tmp_path):
    e = Edit(Output(width=320, height=180, fps=24, loudness=None, background="black"))
    e.gap(2.0)
    e.add_text("POP", 0.0, 2.0, color="white", outline=0, animate_in="pop", animate_out="fade", animate_s=0.5,
               y=0.5, size=0.3)
    out = tmp_path / "pop.mp4"
    render(e.timeline, out, preset="draft")
    lit = [int((f.image > 128).sum()) for f in iter_frames(out, fmt="gray")]
    assert lit[0] < lit[8] and lit[8] > lit[24] * 1.05      # small, overshoots, settles
    assert lit[24] > 0 and lit[47] < lit[24] / 4            # fading out at the end
