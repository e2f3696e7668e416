"""Style remixes: named looks for the whole picture of a render, as ffmpeg filter-chain pieces.

Presets combine freely. Whatever order they are given in, they are applied as colour grades first
(``warm``, ``noir`` ... as generated 3D LUTs, then the user's own ``.cube`` LUT), then stylised
looks (``posterize``, ``cel``), then textures (``grain``, ``vhs``, ``crt``), then framing
(``vignette``, ``letterbox``), so grain is never graded away and letterbox bars stay black.

    >>> filters = style_filters(["warm", "grain", "letterbox"], 1920, 1080, cache_dir=Path("~/.cache/looks"))
    >>> ",".join(filters)      # 'lut3d=file=/home/me/.cache/looks/warm-1f0c....cube:interp=tetrahedral,...'
    >>> write_lut("noir", Path("noir.cube"))    # the LUT behind a grade, for use in other tools
    >>> check_lut("my-grade.cube")              # a user LUT, validated before a render starts

The grade LUTs are computed here with numpy from a handful of parameters (per-channel gamma,
saturation, an S-curve, black lift and white gain); nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from animstudio.editing.filters import value
from animstudio.errors import InvalidInputError
from animstudio.files import write_text_atomic

LUT_VERSION = 1  # bump when the colour maths changes, so cached LUTs are generated again
LUT_SIZE = 33
MIN_LUT_SIZE, MAX_LUT_SIZE = 2, 256  # what ffmpeg's lut3d accepts

# Stages, in the order they are applied.
GRADE, USER_LUT, LOOK, TEXTURE, FRAMING = range(5)

_LUMA = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709 weights
_YUV_FORMATS = "format=yuv420p|yuv422p|yuv444p"  # keeps the input's layout where it is one of these
CINEMA_ASPECT = 2.39


# ---------------------------------------------------------------------------------------------
# Colour grades (3D LUTs)


@dataclass(frozen=True)
class Grade:
    """A colour grade, applied to RGB in [0, 1] in this order: tint, saturation, contrast, levels."""

    gamma: tuple[float, float, float] = (1.0, 1.0, 1.0)  # per channel; below 1 brightens that channel
    saturation: float = 1.0  # 0 is black and white
    contrast: float = 0.0  # steepness of an S-curve around mid grey; 0 leaves contrast alone
    lift: tuple[float, float, float] = (0.0, 0.0, 0.0)  # where black ends up, per channel
    gain: tuple[float, float, float] = (1.0, 1.0, 1.0)  # where white ends up, per channel

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        out = np.power(np.clip(rgb, 0.0, 1.0), np.asarray(self.gamma))
        luma = out @ _LUMA
        out = luma[:, None] + self.saturation * (out - luma[:, None])
        out = _s_curve(np.clip(out, 0.0, 1.0), self.contrast)
        lift, gain = np.asarray(self.lift), np.asarray(self.gain)
        return np.clip(lift + out * (gain - lift), 0.0, 1.0)


def _s_curve(x: np.ndarray, steepness: float) -> np.ndarray:
    """A logistic S-curve through (0, 0), (0.5, 0.5) and (1, 1); slope at mid grey grows with steepness."""
    if steepness <= 0:
        return x
    low, high = _logistic(-steepness / 2), _logistic(steepness / 2)
    return (_logistic(steepness * (x - 0.5)) - low) / (high - low)


def _logistic(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


GRADES: dict[str, Grade] = {
    "warm": Grade(gamma=(0.84, 0.96, 1.25), saturation=1.05),
    "cool": Grade(gamma=(1.2, 1.0, 0.84)),
    "noir": Grade(saturation=0.0, contrast=6.0, gamma=(1.05, 1.05, 1.05)),
    "vintage": Grade(gamma=(0.95, 1.0, 1.12), saturation=0.65, lift=(0.11, 0.09, 0.07), gain=(0.97, 0.94, 0.84)),
    "cartoon_pop": Grade(saturation=1.5, contrast=4.0),
}


def lut_table(grade: Grade, size: int = LUT_SIZE) -> np.ndarray:
    """The ``size**3`` x 3 output colours of ``grade`` in .cube order (red changes fastest)."""
    steps = np.linspace(0.0, 1.0, size)
    blue, green, red = np.meshgrid(steps, steps, steps, indexing="ij")
    return grade.apply(np.stack([red, green, blue], axis=-1).reshape(-1, 3))


def _cube_text(name: str, table: np.ndarray, size: int) -> str:
    header = [f'TITLE "animstudio {name} v{LUT_VERSION}"', f"LUT_3D_SIZE {size}",
              "DOMAIN_MIN 0.0 0.0 0.0", "DOMAIN_MAX 1.0 1.0 1.0"]
    rows = [f"{r:.6f} {g:.6f} {b:.6f}" for r, g, b in table.tolist()]
    return "\n".join(header + rows) + "\n"


def _grade(name: str) -> Grade:
    if name not in GRADES:
        raise InvalidInputError(f"there is no LUT for style '{name}'; use one of: {', '.join(sorted(GRADES))}")
    return GRADES[name]


def _check_size(size: int) -> int:
    if not isinstance(size, int) or not MIN_LUT_SIZE <= size <= MAX_LUT_SIZE:
        raise InvalidInputError(f"LUT size must be a whole number from {MIN_LUT_SIZE} to {MAX_LUT_SIZE} "
                                f"(got {size!r}); 33 is usual")
    return size


def write_lut(name: str, path: Path, size: int = LUT_SIZE) -> Path:
    """Write the .cube 3D LUT of grade preset ``name`` to ``path`` (temp file, then rename); return ``path``."""
    grade, size = _grade(name), _check_size(size)
    write_text_atomic(path, _cube_text(name, lut_table(grade, size), size))
    return Path(path)


def cached_lut(name: str, cache_dir: Path, size: int = LUT_SIZE) -> Path:
    """The LUT of grade ``name`` in ``cache_dir``, written on first use; its file name carries a hash
    of the grade's parameters, the size and LUT_VERSION, so a changed grade gets a new file."""
    grade = _grade(name)
    digest = hashlib.sha256(f"{LUT_VERSION}|{name}|{size}|{grade!r}".encode()).hexdigest()[:12]
    folder = Path(cache_dir).expanduser().resolve()
    path = folder / f"{name}-{digest}.cube"
    if not path.is_file():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInputError(f"cannot create the style cache folder {folder} ({exc.strerror or exc}); "
                                    f"fix its permissions or point the cache elsewhere") from exc
        write_lut(name, path, size)
    return path


# ---------------------------------------------------------------------------------------------
# User LUTs


def _cube_error(path: Path, problem: str) -> InvalidInputError:
    return InvalidInputError(f"LUT file {path} is not a valid .cube 3D LUT ({problem}); export it again as a "
                             f"3D .cube (LUT_3D_SIZE n followed by n^3 lines of 'R G B')")


def _floats(path: Path, number: int, words: list[str], count: int = 3) -> list[float]:
    try:
        values = [float(w) for w in words]
    except ValueError:
        values = []
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise _cube_error(path, f"line {number}: expected {count} numbers, got {' '.join(words)[:40]!r}")
    return values


def check_lut(path: str | os.PathLike[str]) -> Path:
    """Return ``path`` (absolute) if it is a readable 3D .cube LUT; otherwise a one-line InvalidInputError."""
    p = Path(path).expanduser()
    if not p.is_file():
        what = "is a folder" if p.is_dir() else "does not exist"
        raise InvalidInputError(f"LUT file {p} {what}; pass the path of a .cube file")
    if p.suffix.lower() != ".cube":
        raise InvalidInputError(f"LUT file {p} is not a .cube file; export the LUT as .cube (3D) and pass that")
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InvalidInputError(f"cannot read LUT file {p} ({exc.strerror or exc}); fix its permissions") from exc
    size, rows = _parse_cube(p, text)
    if size is None:
        raise _cube_error(p, "no LUT_3D_SIZE line")
    if rows != size**3:
        raise _cube_error(p, f"LUT_3D_SIZE {size} needs {size**3} colour lines, found {rows}")
    return p.resolve()


def _parse_cube(path: Path, text: str) -> tuple[int | None, int]:
    """(LUT_3D_SIZE, number of colour rows) of a .cube file's text; raises on anything unexpected."""
    size, rows = None, 0
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        key = words[0].upper()
        if key == "TITLE":
            continue
        if key == "LUT_1D_SIZE":
            raise _cube_error(path, "it is a 1D LUT")
        if key == "LUT_3D_SIZE":
            if len(words) != 2 or not words[1].isdigit() or not MIN_LUT_SIZE <= int(words[1]) <= MAX_LUT_SIZE:
                raise _cube_error(path, f"line {number}: LUT_3D_SIZE must be {MIN_LUT_SIZE} to {MAX_LUT_SIZE}")
            size = int(words[1])
        elif key in ("DOMAIN_MIN", "DOMAIN_MAX"):
            _floats(path, number, words[1:])
        elif key[0].isalpha():
            if size is not None:  # ffmpeg skips other keywords only before LUT_3D_SIZE
                raise _cube_error(path, f"line {number}: unexpected {words[0][:30]!r} after LUT_3D_SIZE")
        elif size is None:
            raise _cube_error(path, f"line {number}: colour values before LUT_3D_SIZE")
        else:
            _floats(path, number, words)
            rows += 1
    return size, rows


# ---------------------------------------------------------------------------------------------
# Filtergraph escaping

def lut_filter(path: str | os.PathLike[str]) -> str:
    return f"lut3d=file={value(path)}:interp=tetrahedral"


# ---------------------------------------------------------------------------------------------
# Looks, textures and framing


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
    return lambda frame: [lut_filter(cached_lut(name, frame.cache_dir))]


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
class Preset:
    stage: int
    description: str
    build: Callable[[Frame], list[str]]


PRESETS: dict[str, Preset] = {
    "warm": Preset(GRADE, "colour grade: golden, warmer picture (LUT)", _grade_filters("warm")),
    "cool": Preset(GRADE, "colour grade: bluer, colder picture (LUT)", _grade_filters("cool")),
    "noir": Preset(GRADE, "colour grade: contrasty black and white (LUT)", _grade_filters("noir")),
    "vintage": Preset(GRADE, "colour grade: faded blacks, warm, muted colours (LUT)", _grade_filters("vintage")),
    "cartoon_pop": Preset(GRADE, "colour grade: punchy saturation and contrast (LUT)",
                          _grade_filters("cartoon_pop")),
    "posterize": Preset(LOOK, "look: five levels per colour channel, poster-like", _posterize),
    "cel": Preset(LOOK, "look: cel-shaded, flattened colours in a few bands of brightness", _cel),
    "grain": Preset(TEXTURE, "texture: film grain that changes every frame", _grain),
    "vhs": Preset(TEXTURE, "texture: VHS tape, colour bleed, softness, noise and faint lines", _vhs),
    "crt": Preset(TEXTURE, "texture: CRT monitor scanlines, glow and darker edges", _crt),
    "vignette": Preset(FRAMING, "framing: darker corners", _vignette),
    "letterbox": Preset(FRAMING, "framing: black 2.39:1 cinema bars over the picture (size kept)", _letterbox),
}

STYLES: dict[str, str] = {name: preset.description for name, preset in sorted(PRESETS.items())}


def _normalise(names: Sequence[str]) -> list[str]:
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


def style_filters(names: Sequence[str], width: int, height: int, cache_dir: Path,
                  lut: str | Path | None = None) -> list[str]:
    """ffmpeg filters (each one filter or a comma chain, no labels) that give a ``width`` x ``height``
    video the styles ``names``, in stage order: grades, the user ``lut``, looks, textures, framing.
    Join them with commas into a chain; the picture size does not change."""
    if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
        raise InvalidInputError(f"style size must be positive whole pixels (got {width}x{height})")
    user_lut = [lut_filter(check_lut(lut))] if lut is not None else []
    frame = Frame(width, height, Path(cache_dir))
    chosen = sorted(_normalise(names), key=lambda name: PRESETS[name].stage)  # stable: keeps user order
    filters: list[str] = []
    for name in (n for n in chosen if PRESETS[n].stage < USER_LUT):
        filters.extend(PRESETS[name].build(frame))
    filters.extend(user_lut)
    for name in (n for n in chosen if PRESETS[n].stage > USER_LUT):
        filters.extend(PRESETS[name].build(frame))
    return filters
