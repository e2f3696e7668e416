"""Subtitles: sidecar files round-trip, and burn-in with libass shows each cue on exactly its frames."""

from __future__ import annotations

import math
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from animstudio.editing.burn_in import ass_color, burn_filter, write_ass
from animstudio.editing.filters import value as filter_value
from animstudio.editing.fonts import fonts_dir
from animstudio.errors import InvalidInputError
from animstudio.media.ffmpeg import ffmpeg_exe
from animstudio.media.subtitles import Cue, Word, read_subtitles, shift, write_srt, write_vtt
from conftest import ffmpeg

W, H, FPS = 320, 180, 10  # at 10 fps frame n shows at n / 10 s


@pytest.fixture(scope="module")
def dark_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s of plain dark grey, 320x180 at 10 fps, lossless."""
    out = tmp_path_factory.mktemp("video") / "dark.mkv"
    ffmpeg("-f", "lavfi", "-i", f"color=c=0x202020:s={W}x{H}:r={FPS}:d=3", "-c:v", "ffv1", str(out))
    return out


def burn(video: Path | str, filt: str, tmp_path: Path, size: tuple[int, int] = (W, H)) -> np.ndarray:
    """The video's frames, as (n, h, w, 3) RGB, after the filter (drawn onto RGB, so colours stay exact).

    ``video`` is a file, or a lavfi source (``color=...``)."""
    raw = tmp_path / "frames.rgb"
    source = ["-i", str(video)] if isinstance(video, Path) else ["-f", "lavfi", "-i", video]
    ffmpeg(*source, "-vf", f"format=rgb24,{filt}", "-f", "rawvideo", "-pix_fmt", "rgb24", str(raw))
    return np.fromfile(raw, np.uint8).reshape(-1, size[1], size[0], 3)


def text_pixels(frame: np.ndarray) -> np.ndarray:
    """Bright (white-ish) pixels: the background is 0x202020."""
    return frame.min(axis=2) > 200


def yellow_pixels(frame: np.ndarray) -> np.ndarray:
    f = frame.astype(int)
    return (f[..., 0] > 200) & (f[..., 1] > 200) & (f[..., 2] < 60)


def caption_region(frame: np.ndarray) -> np.ndarray:
    return frame[H * 2 // 3:]


# ---------------------------------------------------------------- burn-in


def test_cue_shows_on_exactly_its_frames(dark_video, tmp_path):
    ass = write_ass([Cue(1.0, 2.0, "HELLO")], tmp_path / "hello.ass", W, H, size=0.15)
    frames = burn(dark_video, burn_filter(ass), tmp_path)
    assert len(frames) == 30
    shown = [bool(text_pixels(caption_region(f)).sum() > 50) for f in frames]
    assert shown == [10 <= n < 20 for n in range(30)]
    assert not shown[9] and shown[10] and shown[19] and not shown[20]  # 0.9 s, 1.0 s, 1.9 s, 2.0 s
    assert not text_pixels(frames[15][: H * 2 // 3]).any()  # the caption sits at the bottom


def test_offset_for_a_segment_of_the_timeline(dark_video, tmp_path):
    # the segment's frame 0 is output time 0.5 s, so the cue at 1.0-2.0 s shows on frames 5-14
    ass = write_ass([Cue(1.0, 2.0, "HELLO")], tmp_path / "hello.ass", W, H, size=0.15)
    filt = burn_filter(ass, offset_s=0.5)
    assert "setpts=PTS+round(0.500000/TB)+1,subtitles=" in filt and ",setpts=PTS-(round(0.500000/TB)+1)," in filt
    frames = burn(dark_video, filt, tmp_path)
    shown = [bool(text_pixels(caption_region(f)).sum() > 50) for f in frames]
    assert shown == [5 <= n < 15 for n in range(30)]
    assert not shown[4] and shown[5] and shown[14] and not shown[15]


@pytest.mark.parametrize("rate", ["30", "60", "30000/1001"])
def test_frames_exactly_on_cue_boundaries(tmp_path, rate):
    """ffmpeg's subtitles filter truncates a frame's time to whole ms; at 30 fps the frame at 3.7 s came
    out as 3.699 s and missed a cue starting at 3.7 s. burn_filter nudges the time so that cannot happen."""
    fps = Fraction(rate)
    cues = [Cue(0.1 * (3 * i + 1), 0.1 * (3 * i + 2), "H") for i in range(30)]
    ass = write_ass(cues, tmp_path / "many.ass", 64, 36, size=0.5)
    for offset in (0.0, 1.5):
        frames = burn(f"color=c=0x202020:s=64x36:r={rate}:d=7", burn_filter(ass, offset), tmp_path, (64, 36))
        shown = [bool(text_pixels(f).sum() > 3) for f in frames]
        expected = [any(Fraction(3 * i + 1, 10) <= n / fps + Fraction(offset) < Fraction(3 * i + 2, 10)
                        for i in range(30)) for n in range(len(frames))]
        assert len(frames) == math.ceil(7 * fps) and shown == expected


def test_offset_leaves_the_stream_timestamps_as_they_were(dark_video, tmp_path):
    ass = write_ass([Cue(1.0, 2.0, "HELLO")], tmp_path / "hello.ass", W, H)

    def timestamps(filt: str) -> list[str]:
        out = tmp_path / "frames.md5"
        ffmpeg("-i", str(dark_video), "-vf", filt, "-f", "framemd5", str(out))
        return [line.split(",")[2].strip() for line in out.read_text().splitlines() if not line.startswith("#")]

    plain = timestamps("null")
    assert len(plain) == 30
    assert timestamps(burn_filter(ass, offset_s=0.5)) == plain
    assert timestamps(burn_filter(ass, offset_s=1.2345)) == plain


def test_karaoke_sweeps_each_word_during_its_own_timing(dark_video, tmp_path):
    """``\\kf``: a word fills with the highlight colour from its start to its end, left to right."""
    words = [Word(start_s=0.8, end_s=1.2, text="HELLO"), Word(start_s=1.5, end_s=2.0, text="WORLD")]
    ass = write_ass([Cue(0.5, 2.5, "HELLO WORLD", words=words)], tmp_path / "k.ass", W, H, size=0.15,
                    karaoke=True, highlight="yellow")
    assert "{\\k30}{\\kf40}HELLO{\\k30} {\\kf50}WORLD" in ass.read_text()
    frames = burn(dark_video, burn_filter(ass), tmp_path)

    # where the two words are: the widest run of empty columns between the text of the first frame
    columns = text_pixels(frames[5]).any(axis=0)
    xs = np.nonzero(columns)[0]
    gaps = [(b - a, a) for a, b in zip(xs[:-1], xs[1:], strict=True)]
    split = max(gaps)[1] + 1

    def lit(n: int) -> tuple[int, int]:
        yellow = yellow_pixels(frames[n])
        return int(yellow[:, :split].sum()), int(yellow[:, split:].sum())

    full_left, full_right = lit(24)
    assert full_left > 50 and full_right > 50
    assert lit(8) == (0, 0)                      # 0.8 s: word 1 starts, nothing filled yet
    left, right = lit(10)                        # 1.0 s: half way through word 1
    assert 0 < left < full_left and right == 0
    assert lit(12) == (full_left, 0)             # 1.2 s: word 1 done, word 2 not started
    assert lit(15) == (full_left, 0)             # 1.5 s: word 2 starts
    left, right = lit(17)
    assert left == full_left and 0 < right < full_right
    assert lit(20) == (full_left, full_right)    # 2.0 s: both done, until the cue ends
    assert not yellow_pixels(frames[25]).any() and not text_pixels(frames[25]).any()


def test_path_with_colon_space_quote_comma_and_brackets(dark_video, tmp_path):
    folder = tmp_path / "my subs, [v2]; it's"
    ass = write_ass([Cue(1.0, 2.0, "HELLO")], folder / "cap: final\\1.ass", W, H, size=0.15)
    frames = burn(dark_video, burn_filter(ass), tmp_path)
    assert text_pixels(caption_region(frames[15])).sum() > 50
    assert not text_pixels(frames[5]).any()


def test_filter_value_escaping():
    assert filter_value("/a/b.ass") == "/a/b.ass"
    assert filter_value("/a b/c:d.ass") == "/a\\\\\\ b/c\\\\:d.ass"
    assert filter_value("it's,[x];y") == "it\\\\\\'s\\,\\[x\\]\\;y"
    assert filter_value("back\\slash") == "back\\\\\\\\slash"


def test_burn_filter_names_the_shipped_fonts_and_checks_its_input(tmp_path):
    ass = write_ass([Cue(0.0, 1.0, "HI")], tmp_path / "a.ass", W, H)
    filt = burn_filter(ass)
    burn = f"subtitles=filename={filter_value(str(ass.resolve()))}:fontsdir={filter_value(str(fonts_dir()))}"
    assert filt == f"settb=intb/1000,setpts=PTS+1,{burn},setpts=PTS-(1),settb=intb*1000"
    with pytest.raises(InvalidInputError, match="does not exist"):
        burn_filter(tmp_path / "missing.ass")
    with pytest.raises(InvalidInputError, match="offset"):
        burn_filter(ass, offset_s=-1.0)


@pytest.mark.parametrize(("font", "face"), [("Roboto", "Roboto-Regular"), ("Roboto-Bold", "Roboto-Bold"),
                                            ("Roboto-LightItalic", "Roboto-LightItalic")])
def test_libass_uses_the_shipped_face(tmp_path, font, face):
    ass = write_ass([Cue(0.0, 1.0, "HI")], tmp_path / "a.ass", W, H, font=font)
    log = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "debug", "-f", "lavfi", "-i",
                          f"color=s={W}x{H}:d=0.2", "-vf", burn_filter(ass), "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    picked = [line.split("->", 1)[1].strip() for line in log.splitlines() if "fontselect:" in line]
    assert picked and all(p.startswith(f"{face},") for p in picked)


# ---------------------------------------------------------------- files


def test_srt_round_trip(tmp_path):
    cues = [Cue(0.0, 1.5, "First line\nsecond line"), Cue(1.25, 3.0, "Overlapping é ü ß"),
            Cue(3725.042, 3726.5, "an hour in")]
    path = write_srt(cues, tmp_path / "out.srt")
    text = path.read_text()
    assert text.startswith("1\n00:00:00,000 --> 00:00:01,500\nFirst line\nsecond line\n\n2\n")
    assert "01:02:05,042 --> 01:02:06,500" in text
    assert read_subtitles(path) == cues


def test_vtt_round_trip(tmp_path):
    cues = [Cue(0.5, 1.5, "Tom & Jerry <3"), Cue(2.0, 4.25, "two\nlines")]
    path = write_vtt(cues, tmp_path / "out.vtt")
    text = path.read_text()
    assert text.startswith("WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nTom &amp; Jerry &lt;3\n")
    assert read_subtitles(path) == cues


def test_ass_round_trip_keeps_karaoke_words(tmp_path):
    words = [Word(start_s=1.1, end_s=1.5, text="Hello,"), Word(start_s=1.5, end_s=2.2, text="world")]
    cues = [Cue(1.0, 2.5, "Hello,\nworld", words=words), Cue(3.0, 4.0, "a {brace} and \\N back\\slash")]
    path = write_ass(cues, tmp_path / "out.ass", 1280, 720, karaoke=True)
    assert "{\\k10}{\\kf40}Hello,{\\k0}\\N{\\kf70}world" in path.read_text()  # the line break is kept
    assert read_subtitles(path) == cues
    plain = write_ass(cues, tmp_path / "plain.ass", 1280, 720)  # without karaoke: text only
    assert read_subtitles(plain) == [Cue(1.0, 2.5, "Hello,\nworld"), cues[1]]


def test_reads_other_tools_files(tmp_path):
    srt = tmp_path / "other.srt"
    srt.write_bytes(b"\xef\xbb\xbf1\r\n00:00:01,000 --> 00:00:02,000 X1:10\r\n<i>slanted</i> {\\an8}top\r\n"
                    b"2\r\n00:00:03,5 --> 00:00:04,000\r\nno blank line before\r\n")
    assert read_subtitles(srt) == [Cue(1.0, 2.0, "slanted top"), Cue(3.5, 4.0, "no blank line before")]
    vtt = tmp_path / "other.vtt"
    vtt.write_text("WEBVTT - title\nKind: captions\n\nNOTE a comment\n\nSTYLE\n::cue { color: red }\n\n"
                   "intro\n01:02.000 --> 01:03.500 align:start line:0\n<v Ann>Hi <b>there</b></v>\n\n"
                   "00:00:05.000 --> 00:00:05.000\nzero length, skipped\n")
    assert read_subtitles(vtt) == [Cue(62.0, 63.5, "Hi there")]
    ass = tmp_path / "other.ass"
    ass.write_text("[Script Info]\nScriptType: v4.00+\n\n[Events]\n"
                   "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
                   "Comment: 0,0:00:00.00,0:00:01.00,Default,,0,0,0,,not shown\n"
                   "Dialogue: 0,0:00:01.00,0:00:02.50,Default,,0,0,0,,{\\i1}One, two{\\i0}\\Nthree\n")
    assert read_subtitles(ass) == [Cue(1.0, 2.5, "One, two\nthree")]


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.srt", "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\nthis is not a timing\n", r"bad\.srt:6: expected"),
    ("bad.srt", "1\n00:00:03,000 --> 00:00:02,000\nbackwards\n", r"bad\.srt:2: the cue ends before"),
    ("bad.srt", "1\n00:00:01,000 --> 00:00:02,000\n\n", r"bad\.srt:2: .*empty text"),
    ("bad.srt", "", r"bad\.srt has no subtitles"),
    ("bad.srt", "\n\n  \n", r"bad\.srt has no subtitles"),
    ("bad.vtt", "00:01.000 --> 00:02.000\nno header\n", r"bad\.vtt:1: a WebVTT file must start"),
    ("bad.vtt", "WEBVTT\n\ncue-id\n00:01 --> 00:02\ntext\n", r"bad\.vtt:4: expected a timing"),
    ("bad.ass", "[Events]\nFormat: Start, End, Text\nDialogue: 0:00:01.00,later,hi\n", r"bad\.ass:3: bad time"),
    ("bad.ass", "[Events]\nFormat: Start, End, Text\nDialogue: 0:00:01.00\n", r"bad\.ass:3: .*fields"),
    ("bad.txt", "just some words\n", r"bad\.txt is not a subtitle file"),
])
def test_bad_files_name_the_file_and_line(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InvalidInputError, match=message):
        read_subtitles(path)


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        read_subtitles(tmp_path / "nope.srt")
    latin = tmp_path / "latin.srt"
    latin.write_bytes("1\n00:00:01,000 --> 00:00:02,000\ncaf\u00e9\n".encode("latin-1"))
    with pytest.raises(InvalidInputError, match=r"latin\.srt:3: not UTF-8"):
        read_subtitles(latin)


# ---------------------------------------------------------------- cues, colours, styles


def test_cue_validation(tmp_path):
    with pytest.raises(InvalidInputError, match="positive duration"):
        Cue(2.0, 2.0, "x")
    with pytest.raises(InvalidInputError, match="before 0 s"):
        Cue(-0.5, 1.0, "x")
    with pytest.raises(InvalidInputError, match="empty text"):
        Cue(0.0, 1.0, "  \n ")
    with pytest.raises(InvalidInputError, match="ends before it starts"):
        Cue(0.0, 1.0, "x", words=[Word(start_s=0.5, end_s=0.2, text="x")])
    assert Cue(0, 1, "  a \n\n b ").text == "a\nb"
    cue = Cue(0.0, 1.0, "ok")
    cue.end_s = 0.0  # changed after creation: the writers check again
    with pytest.raises(InvalidInputError, match="cue 1: .*positive duration"):
        write_srt([cue], tmp_path / "unused.srt")
    assert not (tmp_path / "unused.srt").exists()


def test_shift_clips_at_zero():
    words = [Word(start_s=1.0, end_s=1.4, text="a"), Word(start_s=1.75, end_s=2.0, text="b")]
    cues = [Cue(0.0, 1.0, "gone"), Cue(1.0, 2.0, "a b", words=words), Cue(3.0, 4.0, "later")]
    moved = shift(cues, -1.5)
    assert moved == [Cue(0.0, 0.5, "a b", words=[Word(start_s=0.25, end_s=0.5, text="b")]),
                     Cue(1.5, 2.5, "later")]
    assert shift(moved, 1.5)[1] == Cue(3.0, 4.0, "later")


@pytest.mark.parametrize(("color", "ass"), [
    ("white", "&H00FFFFFF"), ("yellow", "&H0000FFFF"), ("red", "&H000000FF"), ("#FF8000", "&H000080FF"),
    ("#12345678", "&H87563412"), ("0x112233", "&H00332211"), ("black@0.5", "&H7F000000"), ("blue@0", "&HFFFF0000"),
])
def test_ass_colours(color, ass):
    assert ass_color(color) == ass


@pytest.mark.parametrize("color", ["notacolour", "#12345", "white@2"])
def test_bad_colours(color):
    with pytest.raises(InvalidInputError, match="colour"):
        ass_color(color)


def test_ass_styles_are_in_output_pixels(tmp_path):
    path = write_ass([Cue(0.0, 1.0, "x")], tmp_path / "s.ass", 1280, 720, color="#FF8000", highlight="cyan",
                     size=0.05, outline=0.005, bottom_margin=0.1)
    text = path.read_text()
    assert "PlayResX: 1280\nPlayResY: 720\n" in text
    assert ("Style: Default,Roboto,36,&H000080FF,&H00FFFF00,&H00000000,&H7F000000,0,0,0,0,100,100,0,0,1,3.6,0,2,"
            "51,51,72,1") in text
    assert "Style: Karaoke,Roboto,36,&H00FFFF00,&H000080FF," in text
    bold = write_ass([Cue(0.0, 1.0, "x")], tmp_path / "b.ass", 1280, 720, font="Roboto-BoldItalic").read_text()
    assert "Style: Default,Roboto,43.2,&H00FFFFFF,&H0000FFFF,&H00000000,&H7F000000,-1,-1," in bold
    with pytest.raises(InvalidInputError, match="shipped Roboto"):
        write_ass([Cue(0.0, 1.0, "x")], tmp_path / "c.ass", 1280, 720, font="Arial")
    assert not (tmp_path / "c.ass").exists()
