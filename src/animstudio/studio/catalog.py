"""What the studio's API describes to its clients (the web UI builds its forms from it): the job
kinds and tools with their parameter schemas, the files a served folder or a job's folder holds, and
subtitles as the browser's WebVTT.

    describe()["pipelines"]["parody"]["schema"]      # the parody's Options as JSON schema
    folder_files(job.folder)                         # [{"name": "parody.mp4", "bytes": ...}, ...]
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from animstudio.files import VIDEO_FILES

MEDIA = {*VIDEO_FILES, ".otio", ".wav", ".mp3", ".flac", ".ogg", ".m4a", ".png", ".jpg", ".jpeg", ".webp", ".srt",
         ".md", ".txt", ".yaml", ".yml", ".json", ".csv", ".pdf"}   # what is listed and what may be uploaded
LISTED = 2000        # files listed from a folder at most
TIME = re.compile(r"(\d+:\d{2}:\d{2}),(\d{3})")


def describe() -> dict[str, Any]:
    """Every job kind (but the agent's, which has its own route) and every tool, with its schema."""
    from animstudio.plugins import backends
    from animstudio.tools import tools

    pipelines = {name: {"description": getattr(cls, "description", "") or (cls.__doc__ or "").strip(),
                        "schema": cls.Options.model_json_schema(), "artifacts": list(cls.artifacts)}
                 for name, cls in sorted(backends("pipeline").items()) if name != "agent"}
    return {"pipelines": pipelines, "tools": {name: t.describe() for name, t in sorted(tools().items())}}


def folder_files(folder: Path, suffixes: set[str] | None = None) -> list[dict[str, Any]]:
    """The files under ``folder`` (names relative to it, hidden and partial files left out)."""
    folder = folder.resolve()
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if (not path.is_file() or any(part.startswith(".") for part in rel.parts) or path.suffix == ".part"
                or (suffixes is not None and path.suffix.lower() not in suffixes)):
            continue
        found.append({"name": rel.as_posix(), "bytes": path.stat().st_size})
        if len(found) >= LISTED:
            break
    return found


def media_files(folders: list[Path]) -> list[dict[str, Any]]:
    """The media, timelines and documents of the served folders, each by its full path (what a job
    names)."""
    return [{"path": str(folder / f["name"]), "folder": str(folder), **f}
            for folder in folders if folder.is_dir() for f in folder_files(folder, MEDIA)]


def srt_to_vtt(text: str) -> str:
    """SubRip subtitles as WebVTT (what a video element's track reads)."""
    body = TIME.sub(r"\1.\2", text.replace("\r\n", "\n").lstrip("\ufeff"))
    return "WEBVTT\n\n" + body.strip() + "\n"
