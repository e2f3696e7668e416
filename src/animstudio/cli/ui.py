"""Shared pieces of the CLI: JSON output, tables and progress bars on stderr."""

from __future__ import annotations

import contextlib
import json
import math
import sys
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, TaskID, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from animstudio.progress import Progress, ProgressCallback

out = Console(highlight=False)
if not out.is_terminal:  # pipes and logs: do not squeeze tables into 80 columns
    out.width = max(out.width, 140)
err = Console(stderr=True, highlight=False)


def say(text: str) -> None:
    """Print a message as plain text (paths may hold brackets, which are not markup)."""
    out.print(escape(text))


def _finite(data: Any) -> Any:
    """``data`` with nan and infinity as null: what JSON can hold."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    return data


def print_json(data: Any) -> None:
    """Print ``data`` as strict JSON (never NaN or Infinity, which JSON parsers refuse)."""
    sys.stdout.write(json.dumps(_finite(data), indent=2, default=str, allow_nan=False) + "\n")


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    t = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*[escape(str(x)) for x in r])  # values are text, never markup
    out.print(t)


def _amount(event: Progress) -> str:
    if event.unit == "B":
        scale, unit = (2**20, "MiB") if (event.total or event.done) >= 2**20 else (2**10, "KiB")
        done = f"{event.done / scale:.1f}"
        return f"{done}/{event.total / scale:.1f} {unit}" if event.total else f"{done} {unit}"
    done = f"{event.done:.1f}" if event.unit == "s" else f"{event.done:.0f}"
    total = "" if not event.total else (f"/{event.total:.1f}" if event.unit == "s" else f"/{event.total:.0f}")
    return f"{done}{total} {event.unit}".strip()


@contextlib.contextmanager
def progress_bar() -> Iterator[ProgressCallback]:
    """Yield a progress callback drawing one bar per task on stderr (quiet when stderr is not a terminal)."""
    bars = RichProgress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[amount]}"),
                        TimeRemainingColumn(), console=err, disable=not err.is_terminal)
    tasks: dict[str, TaskID] = {}

    def on_progress(event: Progress) -> None:
        if event.task not in tasks:
            tasks[event.task] = bars.add_task(event.task, total=event.total, amount="")
        bars.update(tasks[event.task], completed=event.done, total=event.total, amount=_amount(event))

    with bars:
        yield on_progress
