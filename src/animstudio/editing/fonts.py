"""Fonts for text overlays and subtitles: the Roboto family from the ``font-roboto`` package.

Text is never drawn with system fonts, so a render looks the same on every machine.

    >>> font_path("Roboto-Bold")          # .../font_roboto/files/Roboto-Bold.ttf
    >>> fonts_dir()                       # the folder libass is pointed at
"""

from __future__ import annotations

from pathlib import Path

from animstudio.errors import InvalidInputError, MissingDependencyError

DEFAULT_FONT = "Roboto-Bold"
FAMILY = "Roboto"  # the family name libass finds in fonts_dir()


def fonts_dir() -> Path:
    try:
        import font_roboto
    except ImportError as exc:
        raise MissingDependencyError.for_extra("font-roboto", "editing", "Text and subtitles") from exc
    return Path(font_roboto.__file__).parent / "files"


def available_fonts() -> list[str]:
    return sorted(p.stem for p in fonts_dir().glob("*.ttf"))


def font_path(name: str = DEFAULT_FONT) -> Path:
    """The .ttf of a shipped font by name (``Roboto-Regular``), or a .ttf/.otf file the user gives."""
    as_file = Path(name).expanduser()
    if as_file.suffix.lower() in (".ttf", ".otf"):
        if not as_file.is_file():
            raise InvalidInputError(f"font file {as_file} does not exist; pass a .ttf/.otf file or one of: "
                                    f"{', '.join(available_fonts())}")
        return as_file
    path = fonts_dir() / f"{name}.ttf"
    if not path.is_file():
        raise InvalidInputError(f"unknown font {name!r}; use one of: {', '.join(available_fonts())}")
    return path
