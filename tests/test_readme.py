"""The README's command examples run as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from conftest import run_cli

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_console_examples_run(tmp_path):
    commands = re.findall(r"^\$ animstudio (.+)$", README.read_text(), re.M)
    assert len(commands) >= 6
    for command in commands:
        proc = run_cli(*shlex.split(command), cwd=tmp_path)
        assert proc.returncode == 0, f"`animstudio {command}` failed: {proc.stderr}"
    assert (tmp_path / "clip.mp4").exists() and (tmp_path / "clip.truth.json").exists()
    assert (tmp_path / "frame.png").exists() and (tmp_path / "speech.wav").exists()
