"""Where batch work runs: independent tasks, each with the resources it declares, on a registered
executor: ``local`` (in this process, one after another: the default) or ``ray`` (a Ray cluster's
workers, on this host or many; :mod:`animstudio.jobs.ray_executor`).

A task is a module-level function and one picklable argument; its result comes back to the caller,
which writes the outputs (to a temporary name, then renamed), so a task that died with its worker and
ran again elsewhere never leaves a second copy of anything. Given ``on_progress``, a task is also
handed a reporter, and what it reports reaches the caller from whichever worker runs it.

    executor = get_executor()                             # the `executor` setting, or get_executor("ray")
    shots = executor.map(count_shots, files, Resources(cpus=1), on_result=lambda i, r: print(i, r))
    executor.map(analyse, files, on_progress=lambda i, event: print(i, event.fraction))   # analyse(file, report)
"""

from __future__ import annotations

import functools
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from animstudio.errors import CancelledError
from animstudio.hookspecs import hookimpl
from animstudio.progress import Progress

TaskProgress = Callable[[int, Progress], None]   # (the task's index, what it reported)


class Resources(BaseModel):
    """What one task needs of a worker; a cluster runs a task only where these are free."""

    model_config = ConfigDict(extra="forbid")
    cpus: float = Field(1.0, ge=0, description="CPU cores")
    gpus: float = Field(0.0, ge=0, description="GPUs (a fraction shares one)")
    memory_mb: int | None = Field(None, ge=1, description="memory, in MiB")


class Executor(ABC):
    """Runs ``fn(item)`` for each item; results in the items' order."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")

    def __init__(self, options: Any = None, **kwargs: Any) -> None:
        if options is not None and not isinstance(options, BaseModel):
            options = self.Options(**options)
        self.options = options if options is not None else self.Options(**kwargs)

    def slots(self) -> int:
        """How many tasks of one CPU it runs at once (work split for it is split this many ways)."""
        return 1

    def gpus(self) -> float:
        """GPUs its workers have between them (0: a task runs where it is, on whatever this machine has)."""
        return 0.0

    @abstractmethod
    def map(self, fn: Callable[..., Any], items: Sequence[Any], resources: Resources | None = None,
            on_result: Callable[[int, Any], None] | None = None, stop: threading.Event | None = None,
            on_progress: TaskProgress | None = None) -> list[Any]:
        """``[fn(item) for item in items]``, the tasks run where this executor runs them; ``on_result(index,
        result)`` is called here as each finishes (in any order). A task's StudioError is raised here; once
        ``stop`` is set, no task is started and those running are stopped (CancelledError). With
        ``on_progress``, each task runs as ``fn(item, report)`` and ``report(event)`` there comes here as
        ``on_progress(index, event)`` (a busy task's events may be thinned out, never its last)."""


class LocalExecutor(Executor):
    name = "local"
    description = "in this process, one task after another"

    def map(self, fn: Callable[..., Any], items: Sequence[Any], resources: Resources | None = None,
            on_result: Callable[[int, Any], None] | None = None, stop: threading.Event | None = None,
            on_progress: TaskProgress | None = None) -> list[Any]:
        results = []
        for i, item in enumerate(items):
            if stop is not None and stop.is_set():
                raise CancelledError("the batch was cancelled")
            results.append(fn(item) if on_progress is None else fn(item, functools.partial(on_progress, i)))
            if on_result is not None:
                on_result(i, results[-1])
        return results


@hookimpl
def register_executors(register: Any) -> None:
    from animstudio.jobs.ray_executor import RayExecutor

    register(LocalExecutor)
    register(RayExecutor)


def get_executor(name: str | None = None, **options: Any) -> Executor:
    """The executor named (default: the ``executor`` setting), made with its options."""
    from animstudio.plugins import get_backend

    if name is None:
        from animstudio.config import load_settings

        name = load_settings().executor
    return get_backend("executor", name)(**options)
