"""Where a caller from outside may read and write: the arguments of a tool call made for the API
(an agent's step, a tool run from the web UI) may name files only in the folders the server serves
and in the call's own folder, where relative paths (its outputs among them) land.

    args = confined({"clip": "/srv/media/a.mp4", "output": "reel.mp4"}, job_folder, [Path("/srv/media")])
    args["output"]        # str(job_folder / "reel.mp4")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from animstudio.errors import InvalidInputError

# arguments that name files whatever their schema says; a schema's "format": "path" adds more
PATH_ARGS = {"file", "files", "clip", "timeline", "audio", "script", "input", "output", "paths", "images",
             "references", "music", "source", "text_file", "image", "video", "folder"}


def _is_path(spec: Any) -> bool:
    if not isinstance(spec, dict):
        return False
    if spec.get("format") == "path":
        return True
    return any(_is_path(s) for s in [*spec.get("anyOf", []), spec.get("items")])


def path_args(schema: dict[str, Any]) -> set[str]:
    """The arguments of a tool's schema that name files."""
    return PATH_ARGS | {name for name, spec in schema.get("properties", {}).items() if _is_path(spec)}


def confined(args: dict[str, Any], workdir: Path, folders: list[Path],
             schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """``args`` with each file argument (:data:`PATH_ARGS`, and those the tool's ``schema`` marks) made
    absolute, a relative one inside ``workdir``; one that lies outside ``workdir`` and ``folders`` is
    refused. A file argument left to a relative default in ``schema`` ("images") is given, inside
    ``workdir``, so nothing lands in the server's working folder."""
    names = path_args(schema or {})
    defaults = {name: spec["default"] for name, spec in (schema or {}).get("properties", {}).items()
                if name in names and name not in args and isinstance(spec.get("default"), str)
                and spec["default"].strip() and not Path(spec["default"]).is_absolute()}
    args = {**args, **defaults}
    roots = [workdir.resolve(), *(f.resolve() for f in folders)]

    def check(key: str, value: Any) -> Any:
        if isinstance(value, list):
            return [check(key, v) for v in value]
        if isinstance(value, dict):
            return {k: check(k, v) for k, v in value.items()}
        if key not in names or not isinstance(value, str) or not value.strip():
            return value
        path = Path(value).expanduser()
        path = path if path.is_absolute() else workdir / path
        if not any(path.resolve().is_relative_to(root) for root in roots):
            raise InvalidInputError(f"{key} {value} is outside the folders this call may use")
        return str(path)

    return {key: check(key, value) for key, value in args.items()}
