"""Style presets: named looks for the whole picture of a render, as ffmpeg filter-chain pieces.

Presets combine freely. Whatever order they are given in, they are applied as colour grades first
(``warm``, ``noir`` ... as generated 3D LUTs, see ``luts.py``), then the user's own ``.cube`` LUT,
then stylised looks (``posterize``, ``cel``), then textures (``grain``, ``vhs``, ``crt``), then
framing (``vignette``, ``letterbox``), so grain is never graded away and letterbox bars stay black.

    >>> normalise_styles(["Warm", "grain,letterbox"])          # ['warm', 'grain', 'letterbox']
    >>> filters = style_filters(["warm", "grain", "letterbox"], 1920, 1080, cache_dir=Path("~/.cache/looks"))
    >>> ",".join(filters)      # 'lut3d=file=/home/me/.cache/looks/warm-1f0c....cube:interp=tetrahedral,...'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from animstudio.errors import InvalidInputError

# Stages, in the order they are applied.
GRADE, USER_LUT, LOOK, TEXTURE, FRAMING = range(5)

_YUV_FORMATS = "format=yuv420p|yuv422p|yuv444p"  # keeps the input's layout where it is one of these
CINEMA_ASPECT = 2.39


@dataclass(frozen=True)
class Frame:
    """What a preset's filters may depend on: the picture size and the LUT cache."""

    width: int
    height: int
    cache_dir: Path

    def scaled(self, pixels_at_1080p: float, least: int = 1) -> int:
        """A length in pixels that looks the same at any picture height."""
        return max(least, round(pixels_at_1080p * self.height / 1080))


def _grade_filters(name: str) -> Callable[[Frame], list[str]]:
    def build(frame: Frame) -> list[str]:
        from animstudio.editing.luts import cached_lut, lut_filter  # numpy: only when a grade is rendered

        return [lut_filter(cached_lut(name, frame.cache_dir))]

    return build


def _posterize(frame: Frame, levels: int = 5) -> list[str]:
    step = f"round(val*{levels - 1}/255)*255/{levels - 1}"  # each channel to the nearest of `levels` values
    return [f"lutrgb=r={step}:g={step}:b={step}"]


def _cel(frame: Frame, bands: int = 6) -> list[str]:
    # Flatten texture but keep edges, cut brightness into bands, then make the flat colours richer.
    band = f"minval+round((clipval-minval)*{bands - 1}/(maxval-minval))*(maxval-minval)/{bands - 1}"
    return [f"bilateral=sigmaS={frame.scaled(6)}:sigmaR=0.1",
            f"unsharp=5:5:{0.8:g}:5:5:0",
            f"lutyuv=y={band}",
            "eq=saturation=1.35"]


def _scanlines(frame: Frame, lines: int, darkness: float) -> str:
    """Dark horizontal lines as on a display of ``lines`` lines (no vertical line: x=-1, w=iw+2)."""
    period = max(2, round(frame.height / lines))
    thickness = max(1, period // 2)
    return f"drawgrid=x=-1:y=0:w=iw+2:h={period}:t={thickness}:c=black@{darkness:g}"


def _grain(frame: Frame) -> list[str]:
    # Temporal noise (a new pattern every frame), mostly in brightness like film grain.
    return [f"{_YUV_FORMATS},noise=c0s=12:c0f=t:c1s=4:c1f=t:c2s=4:c2f=t"]


def _vhs(frame: Frame) -> list[str]:
    # Chroma sits beside the picture and bleeds (blurred colour planes), the picture is soft and
    # noisy, colours are washed a little, and the tape's fields show as faint lines.
    shift = frame.scaled(5)
    chroma_radius = min(frame.scaled(6), max(0, min(frame.width, frame.height) // 4 - 1))
    luma_radius = min(frame.scaled(1.5), max(0, min(frame.width, frame.height) // 2 - 1))
    return [f"{_YUV_FORMATS},chromashift=cbh={-shift}:crh={shift}",
            f"boxblur=lr={luma_radius}:lp=1:cr={chroma_radius}:cp=2",
            "eq=contrast=0.92:brightness=0.03:saturation=1.15",
            "noise=c0s=9:c0f=t:c1s=6:c1f=t:c2s=6:c2f=t",
            _scanlines(frame, 480, 0.18)]


def _crt(frame: Frame) -> list[str]:
    # Strong scanlines, a little red/blue misconvergence, glow, and a darker rim.
    shift = frame.scaled(2)
    return [f"rgbashift=rh={-shift}:bh={shift}",
            f"gblur=sigma={0.4 * frame.height / 540:.2f}",
            "eq=contrast=1.1:brightness=0.04:saturation=1.1",
            _scanlines(frame, 270, 0.45),
            "vignette=angle=PI/7"]


def _vignette(frame: Frame) -> list[str]:
    return ["vignette=angle=PI/6"]


def _letterbox(frame: Frame) -> list[str]:
    """Black bars over the top and bottom so the picture reads as 2.39:1; the size does not change."""
    bar = (frame.height - frame.width / CINEMA_ASPECT) / 2
    bar = int(round(bar / 2) * 2)  # even, so bars line up with yuv420p chroma rows
    if bar <= 0:
        return []  # already as wide as 2.39:1
    return [f"drawbox=x=0:y=0:w=iw:h={bar}:color=black:t=fill",
            f"drawbox=x=0:y=ih-{bar}:w=iw:h={bar}:color=black:t=fill"]


@dataclass(frozen=True)
class StylePreset:
    """A style: the stage it is applied at, what it looks like, and its filters for a frame size."""

    stage: int
    description: str
    build: Callable[[Frame], list[str]]


PRESETS: dict[str, StylePreset] = {
    "warm": StylePreset(GRADE, "colour grade: golden, warmer picture (LUT)", _grade_filters("warm")),
    "cool": StylePreset(GRADE, "colour grade: bluer, colder picture (LUT)", _grade_filters("cool")),
    "noir": StylePreset(GRADE, "colour grade: contrasty black and white (LUT)", _grade_filters("noir")),
    "vintage": StylePreset(GRADE, "colour grade: faded blacks, warm, muted colours (LUT)", _grade_filters("vintage")),
    "cartoon_pop": StylePreset(GRADE, "colour grade: punchy saturation and contrast (LUT)",
                               _grade_filters("cartoon_pop")),
    "posterize": StylePreset(LOOK, "look: five levels per colour channel, poster-like", _posterize),
    "cel": StylePreset(LOOK, "look: cel-shaded, flattened colours in a few bands of brightness", _cel),
    "grain": StylePreset(TEXTURE, "texture: film grain that changes every frame", _grain),
    "vhs": StylePreset(TEXTURE, "texture: VHS tape, colour bleed, softness, noise and faint lines", _vhs),
    "crt": StylePreset(TEXTURE, "texture: CRT monitor scanlines, glow and darker edges", _crt),
    "vignette": StylePreset(FRAMING, "framing: darker corners", _vignette),
    "letterbox": StylePreset(FRAMING, "framing: black 2.39:1 cinema bars over the picture (size kept)", _letterbox),
}

STYLES: dict[str, str] = {name: preset.description for name, preset in sorted(PRESETS.items())}


def normalise_styles(names: Sequence[str]) -> list[str]:
    """Lower-case names, hyphens as underscores, "a,b" split; unknown names rejected; repeats dropped."""
    if isinstance(names, str):
        names = [names]
    wanted: list[str] = []
    for item in names:
        for raw in str(item).split(","):
            name = raw.strip().lower().replace("-", "_")
            if not name:
                continue
            if name not in PRESETS:
                raise InvalidInputError(f"unknown style '{raw.strip()}'; use one or more of: {', '.join(STYLES)}")
            if name not in wanted:
                wanted.append(name)
    return wanted


def styles_named(names: list[str]) -> list[str]:
    """A ``styles`` field's validator: the names normalised; an unknown one refused with the list."""
    try:
        return normalise_styles(names)
    except InvalidInputError as exc:
        raise ValueError(str(exc)) from None


def style_filters(names: Sequence[str], width: int, height: int, cache_dir: Path,
                  lut: str | Path | None = None) -> list[str]:
    """ffmpeg filters (each one filter or a comma chain, no labels) that give a ``width`` x ``height``
    video the styles ``names``, in stage order: grades, the user ``lut``, looks, textures, framing.
    Join them with commas into a chain; the picture size does not change."""
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise InvalidInputError(f"style size must be positive whole pixels (got {width}x{height})")
    from animstudio.editing.luts import check_lut, lut_filter

    user_lut = [lut_filter(check_lut(lut))] if lut is not None else []
    frame = Frame(width, height, Path(cache_dir))
    chosen = sorted(normalise_styles(names), key=lambda name: PRESETS[name].stage)  # stable: keeps user order
    filters: list[str] = []
    for name in (n for n in chosen if PRESETS[n].stage < USER_LUT):
        filters.extend(PRESETS[name].build(frame))
    filters.extend(user_lut)
    for name in (n for n in chosen if PRESETS[n].stage > USER_LUT):
        filters.extend(PRESETS[name].build(frame))
    return filters
