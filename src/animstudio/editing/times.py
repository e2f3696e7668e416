"""The times of a timeline checked before anything reads them: finite, at a rate above 0 (and at most
a million a second), at most a day long, no negative length, speeds from above 0 to 16. Rendering and
exporting both start here.

    >>> check_times(Edit.load("cut.otio").timeline)     # or a one-line InvalidInputError naming the clip
"""

from __future__ import annotations

import math

import opentimelineio as otio

from animstudio.errors import InvalidInputError


def where(item: otio.core.Item, track: otio.schema.Track) -> str:
    """How errors name an item: its name and its track's."""
    return f"clip {item.name!r} on track {track.name!r}"


LONGEST_S = 24 * 3600.0   # no time in a timeline is longer than a day
FASTEST_RATE = 1_000_000.0   # the finest rate a time may count in (audio sample rates are far below)


def _check_time(t: otio.opentime.RationalTime, place: str, what: str) -> None:
    # a time at an absurd rate overflows to infinity once OTIO rescales another time into it
    if not (math.isfinite(t.rate) and 0 < t.rate <= FASTEST_RATE):
        raise InvalidInputError(f"{place}: its {what} is at the rate {t.rate:g}; give its times a rate above 0 "
                                f"and at most {FASTEST_RATE:,.0f} per second")
    if not math.isfinite(t.value) or abs(t.value / t.rate) > LONGEST_S:
        raise InvalidInputError(f"{place}: its {what} is {t.value:g} frames at {t.rate:g} fps; give it a time "
                                f"of at most 24 hours")


def _check_range(rng: otio.opentime.TimeRange | None, place: str, what: str) -> None:
    if rng is None:
        return
    _check_time(rng.start_time, place, f"{what} start")
    _check_time(rng.duration, place, f"{what} duration")
    if rng.duration.value < 0:
        raise InvalidInputError(f"{place} has a negative duration; give it a positive one")


def check_times(timeline: otio.schema.Timeline) -> None:
    """Every time of the timeline can be computed with: finite, at a frame rate above 0, at most a
    day, no negative length, and every clip has a length. Rendering and exporting both start here."""
    for track in timeline.tracks:
        if not isinstance(track, otio.schema.Track):
            raise InvalidInputError(f"the timeline holds a {type(track).__name__} {track.name!r} among its tracks; "
                                    f"flatten nested stacks first")
        _check_range(track.source_range, f"track {track.name!r}", "source range")
        for item in track:
            place = where(item, track)
            if isinstance(item, otio.schema.Transition):
                for offset, what in ((item.in_offset, "in offset"), (item.out_offset, "out offset")):
                    _check_time(offset, f"transition {item.name!r} on track {track.name!r}", what)
                    if offset.value < 0:
                        raise InvalidInputError(f"transition {item.name!r} on track {track.name!r} has a negative "
                                                f"{what}; give it a positive one")
                continue
            _check_range(item.source_range, place, "source range")
            if isinstance(item, otio.schema.Clip):
                ref = item.media_reference
                _check_range(ref.available_range if ref is not None else None, place, "media range")
                if item.source_range is None and (ref is None or ref.available_range is None):
                    raise InvalidInputError(f"{place} has no source range and its media no length; give it a "
                                            f"source range")
                for effect in item.effects:   # a freeze frame is a time warp of speed 0
                    if not isinstance(effect, otio.schema.LinearTimeWarp) or isinstance(effect,
                                                                                     otio.schema.FreezeFrame):
                        continue
                    scalar = effect.time_scalar
                    if not (math.isfinite(scalar) and 0 < scalar <= 16):
                        raise InvalidInputError(f"{place} has speed {scalar:g}; speeds go from above 0 to 16 "
                                                f"(use reverse for backwards)")
