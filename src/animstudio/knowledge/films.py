"""Analysed films as knowledge: one record per shot of an ``analysis.json`` (from ``animstudio
analyze``), with its time range, composition, camera motion and what is said in it.

    shots = shot_records("ep1.analysis.json", transcript="ep1.srt")
    shots[3].text()     # 'film: ep1.mp4\\nshot: 3\\nstart s: 12.5 ... camera: pan_left ... transcript: ...'
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from animstudio.errors import InvalidInputError
from animstudio.files import check_input_file
from animstudio.knowledge.records import ShotRecord


def is_analysis(data: Any) -> bool:
    return isinstance(data, dict) and {"shots", "video", "cuts"} <= set(data)


def _cues(transcript: str | os.PathLike[str] | None) -> list[tuple[float, float, str]]:
    """(start, end, text) of what is said: a transcript JSON (``voice transcribe``) or subtitles."""
    if transcript is None:
        return []
    path = check_input_file(transcript, "transcript")
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return [(float(s["start"]), float(s["end"]), str(s["text"]).strip()) for s in data.get("segments", [])]
    from animstudio.media.subtitles import read_subtitles

    return [(c.start_s, c.end_s, " ".join(c.text.split())) for c in read_subtitles(path)]


def shot_records(analysis: str | os.PathLike[str],
                 transcript: str | os.PathLike[str] | None = None) -> list[ShotRecord]:
    path = check_input_file(analysis, "analysis")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path}: not JSON ({exc.msg} at line {exc.lineno}); pass an analysis.json from "
                                "`animstudio analyze`") from exc
    if not is_analysis(data):
        raise InvalidInputError(f"{path} is not an analysis (no shots, cuts and video); make one with "
                                "`animstudio analyze VIDEO -o analysis.json`")
    film = str(data["video"].get("path") or path.stem)
    camera = {c["shot"]: c for c in data.get("camera", [])}
    composition = {c["shot"]: c for c in data.get("composition", [])}
    starts = {t["end_frame"]: t["type"] for t in data.get("transitions", [])} | {
        t["start_frame"]: t["type"] for t in data.get("transitions", [])}
    cues = _cues(transcript) if transcript is not None else [
        (float(line["start_s"]), float(line["end_s"]), f"{line['speaker']}: {line['text']}")
        for line in data.get("lines", [])]   # analysed with speech: each line with its speaker
    records = []
    for shot in data["shots"]:
        i = int(shot["index"])
        comp = composition.get(i, {})
        cam = camera.get(i, {})
        said = " ".join(text for start, end, text in cues if start < shot["end_s"] and end > shot["start_s"])
        colours = ", ".join(s["hex"] for s in comp.get("palette", [])[:4])
        framing = " ".join(filter(None, [str(comp.get("shot_size", "")).replace("_", " "),
                                         f"subject by {comp['subject']}" if comp.get("subject") not in (None, "none")
                                         else "", f"palette {colours}" if colours else ""]))
        records.append(ShotRecord(
            id=f"shot:{Path(film).name}:{i}", film=film, shot=i, start_s=float(shot["start_s"]),
            end_s=float(shot["end_s"]), start_frame=int(shot["start_frame"]), end_frame=int(shot["end_frame"]),
            transition=str(starts.get(int(shot["start_frame"]), "cut" if i else "")), composition=framing,
            camera=str(cam.get("label", "")).replace("_", " "), transcript=said))
    if not records:
        raise InvalidInputError(f"{path} has no shots to index")
    return records
