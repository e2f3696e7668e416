"""Colour grades as 3D LUTs: generated here with numpy from a handful of parameters (per-channel
gamma, saturation, an S-curve, black lift and white gain), cached by a hash of those parameters, and
a user's own ``.cube`` LUT checked before a render starts. Nothing is downloaded.

    >>> write_lut("noir", Path("noir.cube"))                  # the LUT behind a grade, for other tools
    >>> cached_lut("warm", Path("~/.cache/looks"))            # written on first use, then reused
    >>> check_lut("my-grade.cube")                            # a user LUT, or a one-line InvalidInputError
    >>> lut_filter("noir.cube")                               # 'lut3d=file=noir.cube:interp=tetrahedral'
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from animstudio.editing.filters import value
from animstudio.errors import InvalidInputError
from animstudio.files import write_text_atomic

LUT_VERSION = 1  # bump when the colour maths changes, so cached LUTs are generated again
LUT_SIZE = 33
MIN_LUT_SIZE, MAX_LUT_SIZE = 2, 256  # what ffmpeg's lut3d accepts

_LUMA = np.array([0.2126, 0.7152, 0.0722])  # Rec. 709 weights


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


def lut_filter(path: str | os.PathLike[str]) -> str:
    """The ffmpeg filter that applies the .cube LUT at ``path`` (its path escaped for the graph)."""
    return f"lut3d=file={value(path)}:interp=tetrahedral"
