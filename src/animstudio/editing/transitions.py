"""Transition looks: ffmpeg's xfade types, plus dips through black or white.

    >>> check_transition("wipeleft"); xfade_name("dip_black")      # 'fadeblack'
"""

from __future__ import annotations

from animstudio.errors import InvalidInputError

XFADE = ("fade wipeleft wiperight wipeup wipedown slideleft slideright slideup slidedown circlecrop rectcrop "
         "distance fadeblack fadewhite radial smoothleft smoothright smoothup smoothdown circleopen circleclose "
         "vertopen vertclose horzopen horzclose dissolve pixelize diagtl diagtr diagbl diagbr hlslice hrslice "
         "vuslice vdslice hblur fadegrays wipetl wipetr wipebl wipebr squeezeh squeezev zoomin fadefast fadeslow "
         "hlwind hrwind vuwind vdwind coverleft coverright coverup coverdown revealleft revealright revealup "
         "revealdown").split()
DIPS = {"dip_black": "fadeblack", "dip_white": "fadewhite"}
KINDS = tuple(sorted({*XFADE, *DIPS}))


def check_transition(kind: str) -> str:
    if kind not in XFADE and kind not in DIPS:
        raise InvalidInputError(f"unknown transition {kind!r}; use fade, dissolve, dip_black, dip_white, "
                                f"wipeleft, slideup, circleopen or another ffmpeg xfade type")
    return kind


def xfade_name(kind: str) -> str:
    """The xfade ``transition=`` value of one of our kinds."""
    return DIPS.get(check_transition(kind), kind)
