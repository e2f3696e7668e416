"""Style presets, run through the real ffmpeg on a small test picture and measured on the frames."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from animstudio.editing.luts import GRADES, check_lut, write_lut
from animstudio.editing.style_presets import STYLES, style_filters
from animstudio.errors import InvalidInputError
from animstudio.media.ffmpeg import ffmpeg_exe
from conftest import ffmpeg

W, H = 320, 180


@pytest.fixture(scope="module")
def picture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Colour bars and a rainbow (testsrc2) toned down to mid-tones, as in most footage, with a black
    patch top left and a white one top right."""
    out = tmp_path_factory.mktemp("styles") / "picture.png"
    tone = "40+val*0.6"
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:d=1,lutrgb=r={tone}:g={tone}:b={tone},"
           "drawbox=x=0:y=0:w=40:h=40:c=black:t=fill,drawbox=x=280:y=0:w=40:h=40:c=white:t=fill",
           "-frames:v", "1", str(out))
    return out


@pytest.fixture(scope="module")
def grey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("styles") / "grey.png"
    ffmpeg("-f", "lavfi", "-i", f"color=c=0x909090:s={W}x{H}:d=1", "-frames:v", "1", str(out))
    return out


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "looks"  # not there yet: style_filters creates it


def render(still: Path, filters: list[str], frames: int = 1) -> np.ndarray:
    """``frames`` RGB frames (frames, H, W, 3) of a still picture looped as a yuv420p video through ``filters``."""
    chain = ",".join(["format=yuv420p", *filters])
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-loop", "1", "-i", str(still),
                           "-vf", chain, "-frames:v", str(frames), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                          capture_output=True, check=True)
    return np.frombuffer(proc.stdout, np.uint8).reshape(frames, H, W, 3).astype(float)


def styled(still: Path, names: list[str], cache: Path, frames: int = 1, **kw) -> np.ndarray:
    return render(still, style_filters(names, W, H, cache, **kw), frames)


def saturation(rgb: np.ndarray) -> float:
    return float((rgb.max(axis=-1) - rgb.min(axis=-1)).mean())


def red_blue(rgb: np.ndarray) -> float:
    return float(rgb[..., 0].mean() / rgb[..., 2].mean())


# --- colour grades --------------------------------------------------------------------------------


def test_noir_is_black_and_white_and_contrasty(picture, cache):
    original, noir = render(picture, []), styled(picture, ["noir"], cache)
    spread = noir.max(axis=-1) - noir.min(axis=-1)
    assert spread.mean() < 1 and np.percentile(spread, 99) <= 3
    luma = original @ [0.2126, 0.7152, 0.0722]
    assert noir[..., 1].std() > 1.1 * luma.std()


def test_warm_and_cool_move_red_against_blue(picture, cache):
    original = red_blue(render(picture, []))
    assert red_blue(styled(picture, ["warm"], cache)) > original * 1.1
    assert red_blue(styled(picture, ["cool"], cache)) < original / 1.1


def test_cartoon_pop_is_more_saturated(picture, cache):
    original = render(picture, [])
    popped = styled(picture, ["cartoon_pop"], cache)
    assert saturation(popped) > 1.1 * saturation(original)


def test_vintage_lifts_blacks_and_mutes_colour(picture, cache):
    original, vintage = render(picture, []), styled(picture, ["vintage"], cache)
    black = (slice(None), slice(5, 35), slice(5, 35))  # inside the black patch
    assert original[black].max() < 5
    assert vintage[black].min() > 12
    assert saturation(vintage) < 0.9 * saturation(original)


def test_written_lut_parses_and_keeps_black_white_and_order(tmp_path):
    path = write_lut("warm", tmp_path / "luts" / "warm.cube", size=17)
    assert check_lut(path) == path.resolve()
    assert [p.name for p in path.parent.iterdir()] == ["warm.cube"]  # no temp file left behind
    rows = [line for line in path.read_text().splitlines() if line[:1].isdigit()]
    table = np.array([[float(v) for v in row.split()] for row in rows])
    assert table.shape == (17**3, 3)
    assert np.allclose(table[0], 0) and np.allclose(table[-1], 1, atol=1e-6)  # black and white stay
    assert table[1, 0] > 0 and table[1, 1:].max() == 0  # red changes fastest in .cube order
    grey = table[8 + 8 * 17 + 8 * 17 * 17]  # the middle of the cube: neutral grey
    assert grey[0] > grey[1] > grey[2] and abs(grey[1] - 0.5) < 0.05  # warmer, about as bright


def test_luts_are_cached_by_name_and_version(picture, cache):
    first = style_filters(["noir"], W, H, cache)
    (lut,) = cache.glob("noir-*.cube")
    stamp = lut.stat().st_mtime_ns
    assert style_filters(["noir"], W, H, cache) == first
    assert lut.stat().st_mtime_ns == stamp and len(list(cache.iterdir())) == 1
    assert sorted(GRADES) == ["cartoon_pop", "cool", "noir", "vintage", "warm"]


# --- looks, textures and framing --------------------------------------------------------------------


def test_letterbox_draws_cinema_bars_and_keeps_the_size(picture, cache):
    original, boxed = render(picture, []), styled(picture, ["letterbox"], cache)
    bar = (H - W / 2.39) / 2  # 23 rows
    assert boxed.shape == original.shape
    assert boxed[:, : int(bar) - 1].max() <= 2 and boxed[:, H - int(bar) + 1:].max() <= 2
    middle = slice(int(bar) + 3, H - int(bar) - 3)
    assert np.abs(boxed[:, middle] - original[:, middle]).mean() < 1
    assert style_filters(["letterbox"], 640, 200, cache) == []  # already wider than 2.39:1


def test_posterize_leaves_few_levels(picture, cache):
    original, poster = render(picture, []), styled(picture, ["posterize"], cache)
    assert all(len(np.unique(original[..., c])) > 50 for c in range(3))
    assert all(len(np.unique(poster[..., c])) <= 5 for c in range(3))


def test_cel_flattens_brightness_into_bands(picture, cache):
    def on_a_band(rgb: np.ndarray) -> float:  # share of pixels whose brightness is one of 6 bands
        luma = rgb @ [0.299, 0.587, 0.114]
        return float((np.abs(luma - np.round(luma / 51) * 51) < 6).mean())

    original, cel = render(picture, []), styled(picture, ["cel"], cache)
    assert on_a_band(original) < 0.5 and on_a_band(cel) > 0.95


def test_grain_changes_every_frame(picture, cache):
    original, grain = render(picture, [], frames=3), styled(picture, ["grain"], cache, frames=3)
    assert np.array_equal(original[0], original[1])  # the input is a still
    assert np.abs(grain[0] - grain[1]).mean() > 2 and np.abs(grain[1] - grain[2]).mean() > 2
    assert abs(grain.mean() - original.mean()) < 3  # noise, not a brightness change


def test_vignette_darkens_the_corners(grey, cache):
    out = styled(grey, ["vignette"], cache)[0]
    centre = out[H // 2 - 10: H // 2 + 10, W // 2 - 10: W // 2 + 10].mean()
    corners = [out[:10, :10], out[:10, -10:], out[-10:, :10], out[-10:, -10:]]
    assert all(corner.mean() < 0.75 * centre for corner in corners)
    assert centre > 0.9 * render(grey, [])[0].mean()


@pytest.mark.parametrize("name", ["crt", "vhs"])
def test_crt_and_vhs_draw_scanlines(grey, cache, name):
    out = styled(grey, [name], cache, frames=2)
    assert out.shape == (2, H, W, 3)
    rows = out[0, 20:-20, 40:-40].mean(axis=(1, 2))  # away from the vignette's rim
    even, odd = rows[0::2].mean(), rows[1::2].mean()
    assert even < 0.92 * odd  # every other line darker at this size


def test_vhs_smears_colour_sideways(picture, cache):
    original, vhs = render(picture, []), styled(picture, ["vhs"], cache)
    # Chroma shifted and blurred: colour moves across the bar edges while the brightness stays put.
    assert np.abs(vhs - original).mean() > 8
    assert saturation(vhs) > 0.5 * saturation(original)


def test_presets_combine_in_stage_order(picture, cache):
    filters = style_filters(["letterbox", "grain", "warm"], W, H, cache)
    assert filters == style_filters(["warm", "grain", "letterbox"], W, H, cache)
    assert filters[0].startswith("lut3d=") and filters[-1].startswith("drawbox=")
    original, out = render(picture, [], frames=2), render(picture, filters, frames=2)
    assert out.shape == original.shape
    assert out[:, :20].max() <= 2 and out[:, -20:].max() <= 2  # bars stay black: grain goes on first
    assert np.abs(out[0] - out[1])[:, 40:-40].mean() > 2
    assert red_blue(out[:, 40:-40]) > red_blue(original[:, 40:-40]) * 1.05
    assert style_filters(["Warm, GRAIN", " letterbox"], W, H, cache) == filters  # forgiving spelling
    assert style_filters(["Cartoon-Pop", "cartoon_pop"], W, H, cache) == style_filters(["cartoon_pop"], W, H, cache)
    assert style_filters([], W, H, cache) == []


def test_every_preset_runs_alone(picture, cache):
    for name in STYLES:
        assert styled(picture, [name], cache).shape == (1, H, W, 3), name


# --- user LUTs and paths ------------------------------------------------------------------------------


def test_user_lut_in_a_folder_with_colon_space_comma_and_quote(picture, tmp_path, cache):
    folder = tmp_path / "grade: final, v2's [x]"
    lut = write_lut("noir", folder / "my look.cube", size=9)
    filters = style_filters(["grain", "warm"], W, H, cache, lut=lut)
    assert [f.split("=")[0] for f in filters[:3]] == ["lut3d", "lut3d", "format"]  # presets' grade, then user's
    assert filters[1].endswith(":interp=tetrahedral")
    out = styled(picture, [], cache, lut=lut)  # the user LUT alone: black and white
    assert (out.max(axis=-1) - out.min(axis=-1)).mean() < 1.5


def test_unknown_style_lists_the_choices(cache):
    with pytest.raises(InvalidInputError) as err:
        style_filters(["warm", "foo"], W, H, cache)
    message = str(err.value)
    assert "unknown style 'foo'" in message and "cartoon_pop, cel, cool, crt" in message
    assert all(name in message for name in STYLES)
    with pytest.raises(InvalidInputError, match="there is no LUT for style 'grain'"):
        write_lut("grain", cache / "grain.cube")


def test_missing_lut_file(tmp_path, cache):
    with pytest.raises(InvalidInputError, match=r"does not exist; pass the path of a \.cube file"):
        style_filters(["warm"], W, H, cache, lut=tmp_path / "nope.cube")
    with pytest.raises(InvalidInputError, match="is a folder"):
        check_lut(tmp_path)


@pytest.mark.parametrize(("text", "problem"), [
    ("hello world\n", "no LUT_3D_SIZE line"),
    ("LUT_3D_SIZE 2\n0 0 0\n1 0 0\n", "needs 8 colour lines, found 2"),
    ("LUT_3D_SIZE 2\n" + "0 0 0\n" * 7 + "0 zero 0\n", "line 9: expected 3 numbers"),
    ("LUT_3D_SIZE 1\n0 0 0\n", "LUT_3D_SIZE must be 2 to 256"),
    ("0 0 0\nLUT_3D_SIZE 2\n", "colour values before LUT_3D_SIZE"),
    ("LUT_1D_SIZE 4\n0 0 0\n", "it is a 1D LUT"),
])
def test_garbage_lut_files(tmp_path, text, problem):
    bad = tmp_path / "bad.cube"
    bad.write_text(text)
    with pytest.raises(InvalidInputError) as err:
        check_lut(bad)
    message = str(err.value)
    assert problem in message and "not a valid .cube 3D LUT" in message and "export it again" in message
    assert "\n" not in message


def test_lut_needs_cube_extension_and_accepts_the_optional_lines(tmp_path):
    good = tmp_path / "Good.CUBE"
    good.write_text('# made by hand\nTITLE "two"\nDOMAIN_MIN 0 0 0\nDOMAIN_MAX 1 1 1\nLUT_3D_SIZE 2\n'
                    + "".join(f"{r} {g} {b}\n" for b in (0, 1) for g in (0, 1) for r in (0, 1)))
    assert check_lut(good) == good
    renamed = tmp_path / "good.3dl"
    renamed.write_text(good.read_text())
    with pytest.raises(InvalidInputError, match="export the LUT as .cube"):
        check_lut(renamed)


def test_bad_size(cache):
    with pytest.raises(InvalidInputError, match="positive whole pixels"):
        style_filters(["warm"], 0, H, cache)
    with pytest.raises(InvalidInputError, match="LUT size must be"):
        write_lut("warm", cache / "w.cube", size=1)


def test_styles_are_described_on_one_line():
    required = {"warm", "cool", "noir", "vintage", "cartoon_pop", "grain", "vignette", "vhs", "crt", "letterbox",
                "posterize", "cel"}
    assert required <= set(STYLES)
    assert all(desc and "\n" not in desc for desc in STYLES.values())
