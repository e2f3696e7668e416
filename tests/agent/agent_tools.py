"""Tools for driving the agent's loop in tests (registered as a plugin): they write files, count their
calls in a ledger, fail on purpose or take their time; and ``plan_json``, a planner's reply."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from animstudio.errors import InvalidInputError
from animstudio.hookspecs import hookimpl
from animstudio.tools import tool


class Wrote(BaseModel):
    output: str
    duration_s: float = 0.0


def _ledger(name: str) -> None:
    ledger = os.environ.get("AGENT_TEST_LEDGER")
    if ledger:
        with open(ledger, "a", encoding="utf-8") as f:
            f.write(name + "\n")


@tool("test.write", example={"text": "hi", "output": "out/a.txt"})
def write(text: str, output: str) -> Wrote:
    """Write a text file.

    Args:
        text: what to write
        output: the file to write
    """
    _ledger(f"write {output}")
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text(text, encoding="utf-8")
    return Wrote(output=output)


@tool("test.upper", example={"source": "out/a.txt", "output": "out/b.txt"})
def upper(source: str, output: str) -> Wrote:
    """Write a file's text in capitals.

    Args:
        source: the file to read
        output: the file to write
    """
    _ledger(f"upper {source}")
    if not Path(source).is_file():
        raise InvalidInputError(f"no file {source}; give a file that exists")
    Path(output).write_text(Path(source).read_text(encoding="utf-8").upper(), encoding="utf-8")
    return Wrote(output=output)


@tool("test.slow", example={"seconds": 1.0, "output": "out/slow.txt"})
def slow(seconds: float, output: str) -> Wrote:
    """Take a while (or until OUTPUT.go exists), then write a file.

    Args:
        seconds: how long to take at most
        output: the file to write
    """
    _ledger(f"slow {output}")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not Path(output).with_suffix(".go").exists():
        time.sleep(0.05)
    Path(output).write_text("done", encoding="utf-8")
    return Wrote(output=output)


@tool("test.reel", example={"duration_s": 5.0, "output": "out/reel.mp4", "seed": 0})
def reel(duration_s: float, output: str, seed: int = 0) -> Wrote:
    """Pretend to cut a reel: its length comes out right only from seed 2000 on.

    Args:
        duration_s: the length asked for
        output: the file to write
        seed: the take
    """
    _ledger(f"reel seed={seed}")
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text(str(seed), encoding="utf-8")
    return Wrote(output=output, duration_s=duration_s if seed >= 2000 else duration_s / 2)


def plan_json(*steps: tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], list[int]], declined: str | None = None,
              intent: str = "test") -> str:
    return json.dumps({"intent": intent, "steps": [{"tool": s[0], "args": s[1], "after": s[2] if len(s) > 2 else []}
                                                  for s in steps],
                       "declined": declined, "confidence": 0.9})


@hookimpl
def register_tools(register: Any) -> None:
    for each in (write, upper, slow, reel):
        register(each)
