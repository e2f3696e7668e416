"""Write a timeline for other editors: OTIO itself, CMX 3600 EDL and Final Cut Pro 7 XML.

EDL and FCP 7 XML come from the OTIO adapter plugins on PyPI (``otio-cmx3600-adapter``,
``otio-fcp-adapter``). An EDL holds one video track, so it gets the main cut; FCP 7 XML keeps
every track.

    >>> export_timeline(edit.timeline, "cut.edl", "edl")
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import opentimelineio as otio

from animstudio.editing.formats import EXPORT_FORMATS, format_of
from animstudio.editing.schema import MAIN
from animstudio.editing.times import check_times
from animstudio.errors import MissingDependencyError
from animstudio.files import atomic_output


def _for_edl(timeline: otio.schema.Timeline) -> otio.schema.Timeline:
    """The main cut alone: an EDL has one video track and no generators."""
    tl = copy.deepcopy(timeline)
    keep = [t for t in tl.video_tracks() if t.name == MAIN][:1] or tl.video_tracks()[:1]
    for track in list(tl.tracks):
        if track not in keep:
            tl.tracks.remove(track)
    for track in keep:  # an EDL dissolve starts before the incoming clip: it needs media there
        for i, item in enumerate(list(track)):
            if isinstance(item, otio.schema.Transition) and i + 1 < len(track):
                nxt = track[i + 1]
                room = nxt.source_range.start_time if nxt.source_range else item.in_offset
                if room < item.in_offset:
                    item.in_offset = room
    return tl


def export_timeline(timeline: otio.schema.Timeline, path: str | os.PathLike[str], fmt: str | None = None) -> Path:
    """Write ``timeline`` to ``path`` atomically in ``fmt`` (from the suffix when None)."""
    fmt = format_of(path, fmt)
    check_times(timeline)   # what no editor can read is refused, as `edit check` refuses it
    adapter, _ = EXPORT_FORMATS[fmt]
    tl = _for_edl(timeline) if fmt == "edl" else timeline
    with atomic_output(path, "timeline") as tmp:
        try:
            otio.adapters.write_to_file(tl, str(tmp), adapter_name=adapter)
        except otio.exceptions.NoKnownAdapterForExtensionError as exc:  # pragma: no cover - plugin missing
            raise MissingDependencyError.for_extra("otio adapters", "editing", f"{fmt} export") from exc
        except otio.exceptions.AdapterDoesntSupportFunctionError as exc:
            raise MissingDependencyError.for_extra(adapter, "editing", f"{fmt} export") from exc
    return Path(path)
