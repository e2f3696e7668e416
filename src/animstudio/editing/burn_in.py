"""Burnt-in subtitles: cues styled into an ASS file (sizes in output pixels, only the shipped Roboto)
and the ffmpeg filter that draws it with libass, with a karaoke word highlight.

    >>> ass = write_ass(cues, "out/captions.ass", 1280, 720, karaoke=True, highlight="#FFD400")
    >>> run_ffmpeg(["-i", "in.mp4", "-vf", burn_filter(ass), "out.mp4"])
    >>> burn_filter(ass, offset_s=12.0)   # for a segment whose frame 0 is output time 12 s

Karaoke uses ``\\kf`` (a fill that sweeps each word left to right over exactly its own timing);
gaps between words are ``\\k`` syllables of the space between them, so no timing drifts.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from PIL import ImageColor

from animstudio.editing.filters import value
from animstudio.editing.fonts import FAMILY, available_fonts, fonts_dir
from animstudio.editing.schema import CAPTION_SIZE
from animstudio.errors import InvalidInputError
from animstudio.files import write_text_atomic
from animstudio.media.subtitles import WORD_JOINER, Cue, checked_cues

PathLike = str | os.PathLike[str]


def ass_color(color: str) -> str:
    """A colour (``"yellow"``, ``"#FFCC00"``, ``"0xFFCC00"``, ``"black@0.5"``) as ASS ``&HAABBGGRR``.

    ASS stores blue-green-red, and AA is transparency (00 opaque, FF invisible)."""
    name, _, opacity_text = color.strip().partition("@")
    if name.lower().startswith("0x"):
        name = "#" + name[2:]
    try:
        rgba = ImageColor.getrgb(name)
        opacity = float(opacity_text) if opacity_text else 1.0
    except ValueError:
        raise InvalidInputError(f"unknown colour {color!r}; use a name like 'white', '#RRGGBB', or add "
                                f"'@0.5' for opacity") from None
    if not 0 <= opacity <= 1:
        raise InvalidInputError(f"colour {color!r}: the opacity after '@' must be between 0 and 1")
    r, g, b = rgba[:3]
    alpha = round((rgba[3] if len(rgba) == 4 else 255) * opacity)
    return f"&H{255 - alpha:02X}{b:02X}{g:02X}{r:02X}"


def _ass_face(font: str) -> tuple[str, bool, bool]:
    """ASS Fontname, bold and italic for "Roboto" or a shipped face such as "Roboto-LightItalic".

    libass sees only Regular, Bold, Italic and Bold Italic as the family "Roboto"; the other weights
    are found by their full names ("Roboto Light Italic"). A name libass does not find would fall
    back to a system font, so only shipped faces are accepted."""
    if font == FAMILY:
        return FAMILY, False, False
    faces = available_fonts()
    if font not in faces:
        raise InvalidInputError(f"subtitles use the shipped {FAMILY} fonts; font {font!r} is not one of: "
                                f"{FAMILY}, {', '.join(faces)}")
    style = font.removeprefix(FAMILY + "-")
    if style in ("Regular", "Bold", "Italic", "BoldItalic"):
        return FAMILY, "Bold" in style, "Italic" in style
    return f"{FAMILY} {re.sub(r'(?<=[a-z])(?=[A-Z])', ' ', style)}", False, False


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _ass_clock(cs: int) -> str:
    h, rest = divmod(cs, 360_000)
    m, rest = divmod(rest, 6000)
    s, cs = divmod(rest, 100)
    return f"{h}:{m:02d}:{s:02d}.{cs:02d}"


def _ass_escape(text: str) -> str:
    """Literal text for an ASS event: braces and backslash sequences cannot start tags."""
    text = text.replace("\\", "\\" + WORD_JOINER).replace("{", "\\{").replace("}", "\\}")
    return text.replace("\n", "\\N")


def _karaoke_text(c: Cue, start_cs: int, end_cs: int) -> str:
    """``{\\kf}`` syllables for each word; gaps (and the spaces between words) are ``{\\k}`` syllables."""
    words = sorted(c.words, key=lambda w: w.start_s)
    tokens = c.text.split()
    if tokens == [w.text.strip() for w in words]:  # keep the cue's line breaks between words
        separators = [" " if "\n" not in s else "\n" for s in re.findall(r"\s+", c.text)]
    else:
        separators = [" "] * max(0, len(words) - 1)
    parts = []
    cursor = start_cs
    for i, w in enumerate(words):
        begin = min(max(round(w.start_s * 100), cursor), end_cs)
        finish = min(max(round(w.end_s * 100), begin), end_cs)
        gap_text = _ass_escape(separators[i - 1]) if i else ""
        if begin > cursor or gap_text:
            parts.append(f"{{\\k{begin - cursor}}}{gap_text}")
        parts.append(f"{{\\kf{finish - begin}}}{_ass_escape(w.text.strip())}")
        cursor = finish
    return "".join(parts)


def write_ass(cues: list[Cue], path: PathLike, width: int, height: int, *, font: str = "Roboto",
              size: float = CAPTION_SIZE, color: str = "white", outline: float = 0.004, karaoke: bool = False,
              highlight: str = "yellow", bottom_margin: float = 0.06) -> Path:
    """An ASS file for burning in at ``width`` x ``height`` (PlayRes = output pixels).

    ``size`` (text line height), ``outline`` and ``bottom_margin`` are fractions of the height; text
    is centred at the bottom. With ``karaoke``, cues that have words are written with ``\\kf`` tags:
    each word sweeps from ``color`` to ``highlight`` during exactly its own timing and stays
    highlighted; other cues are plain ``color``.
    """
    if int(width) < 16 or int(height) < 16:
        raise InvalidInputError(f"subtitle canvas {width}x{height} is too small; pass the output size in pixels")
    if not 0 < size <= 1 or not 0 <= outline <= 0.05 or not 0 <= bottom_margin < 1:
        raise InvalidInputError("subtitle size must be in (0, 1], outline in [0, 0.05] and bottom_margin in "
                                "[0, 1): fractions of the frame height")
    fontname, bold, italic = _ass_face(font)
    fill, lit = ass_color(color), ass_color(highlight)
    edge, shadow = ass_color("black"), ass_color("black@0.5")
    side = round(0.04 * width)

    def style(name: str, primary: str, secondary: str) -> str:
        return (f"Style: {name},{fontname},{_num(size * height)},{primary},{secondary},{edge},{shadow},"
                f"{-1 if bold else 0},{-1 if italic else 0},0,0,100,100,0,0,1,{_num(outline * height)},0,2,"
                f"{side},{side},{round(bottom_margin * height)},1")

    lines = [
        "[Script Info]",
        "; written by animstudio",
        "ScriptType: v4.00+",
        f"PlayResX: {int(width)}",
        f"PlayResY: {int(height)}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: None",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
        "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
        "MarginL, MarginR, MarginV, Encoding",
        style("Default", fill, lit),
        style("Karaoke", lit, fill),  # \k syllables go from Secondary to Primary
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    for c in checked_cues(cues):
        start = round(c.start_s * 100)
        end = max(start + 1, round(c.end_s * 100))
        if karaoke and c.words:
            name, text = "Karaoke", _karaoke_text(c, start, end)
        else:
            name, text = "Default", _ass_escape(c.text)
        lines.append(f"Dialogue: 0,{_ass_clock(start)},{_ass_clock(end)},{name},,0,0,0,,{text}")
    return write_text_atomic(path, "\n".join(lines) + "\n")


# ---------------------------------------------------------------- burning in


def burn_filter(ass_path: PathLike, offset_s: float = 0.0) -> str:
    """The ffmpeg filter that burns ``ass_path`` onto a video stream, with Roboto from ``fonts_dir()``.

    ``offset_s``: the stream's frame at time 0 shows output time ``offset_s`` (a segment of a longer
    timeline). Around the ``subtitles`` filter the timestamps move forward by the offset and back
    again by the same whole number of ticks, so the stream leaves with the timestamps and time base
    it came with. The time base is made 1000 times finer meanwhile, for the offset and for a
    one-tick nudge: the subtitles filter truncates ``pts * time_base`` to whole milliseconds, and
    without the nudge a frame exactly on a cue's start (3.7 s at 30 fps) can land a millisecond early
    and miss it. Time bases finer than 1/2147483 s are not supported (ffmpeg's limit, x1000).
    """
    path = Path(ass_path).expanduser().resolve()  # absolute: "a:b.ass" would read as a protocol "a:"
    if not path.is_file():
        raise InvalidInputError(f"subtitle file {path} does not exist; write it with write_ass() first")
    if not math.isfinite(offset_s) or offset_s < 0:
        raise InvalidInputError(f"subtitle offset {offset_s} must be a time >= 0 s on the output timeline")
    burn = f"subtitles=filename={value(path)}:fontsdir={value(fonts_dir())}"
    ticks = f"round({offset_s:.6f}/TB)+1" if offset_s else "1"
    return f"settb=intb/1000,setpts=PTS+{ticks},{burn},setpts=PTS-({ticks}),settb=intb*1000"
