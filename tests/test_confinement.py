"""Where a call made for a caller from outside may read and write: its file arguments, given or left
to their defaults, stay in its own folder and the served ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from animstudio.confinement import confined
from animstudio.errors import InvalidInputError
from animstudio.tools import get_tool


def test_relative_paths_and_relative_defaults_land_in_the_calls_folder(tmp_path: Path):
    job, media = tmp_path / "job", tmp_path / "media"
    schema = get_tool("image.generate").schema()
    args = confined({"prompt": "a fox", "checkpoint": str(media / "tiny")}, job, [media], schema=schema)
    assert args["output"] == str(job / "images")          # the default "images", not the server's folder
    assert args["checkpoint"] == str(media / "tiny") and args["prompt"] == "a fox"
    given = confined({"prompt": "a fox", "output": "pics"}, job, [media], schema=schema)
    assert given["output"] == str(job / "pics")
    with pytest.raises(InvalidInputError, match="output /etc is outside the folders this call may use"):
        confined({"prompt": "a fox", "output": "/etc"}, job, [media], schema=schema)
    with pytest.raises(InvalidInputError, match="is outside the folders this call may use"):
        confined({"prompt": "a fox", "output": "../../elsewhere"}, job, [media], schema=schema)
