"""The ``ray`` executor: each task a Ray task with the resources it declares, on the cluster at
``ray.address`` (or a Ray instance started here for the run). A task whose worker dies, killed or with
its host, is run again elsewhere (``ray.max_retries``); the caller gets each result once.

Workers see this process's ``ANIMSTUDIO_*`` variables (``ray.forward_settings``), so the home, the
warehouse and every setting are the same there; on several hosts those folders must be on storage
they share.

    RayExecutor(address="10.0.0.5:6379").map(analyze_one, files, Resources(cpus=2))
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import Field

from animstudio.errors import (
    CancelledError,
    InvalidInputError,
    MissingDependencyError,
    ServiceUnavailableError,
    StudioError,
)
from animstudio.jobs.executor import Executor, Resources, TaskProgress
from animstudio.progress import Progress

_lock = threading.Lock()
_connected: dict[str, Any] = {}     # what this process's Ray client was started with


class RayExecutor(Executor):
    name = "ray"
    description = "a Ray cluster's workers, on this host or many (ray.address)"

    class Options(Executor.Options):
        address: str | None = Field(None, description="the cluster's head, HOST:PORT or ray://HOST:10001 "
                                                      "(default: the ray.address setting)")
        max_retries: int | None = Field(None, ge=0, le=20, description="runs of a task whose worker died "
                                                                       "(default: the ray.max_retries setting)")

    def _connect(self) -> Any:
        try:
            import ray
        except ImportError as exc:
            raise MissingDependencyError("the ray executor needs Ray: pip install 'animstudio[scale]'") from exc
        from animstudio.config import load_settings

        settings = load_settings().ray
        address = self.options.address or settings.address
        env = {k: v for k, v in os.environ.items() if k.startswith("ANIMSTUDIO_")} if settings.forward_settings \
            else {}
        with _lock:
            if ray.is_initialized() and _connected:     # a session this module started (else: the caller's)
                if _connected.get("address") != address or _connected.get("env") != env:
                    ray.shutdown()      # another cluster, or other settings for the workers
            if not ray.is_initialized():
                try:
                    ray.init(address=address, runtime_env={"env_vars": env} if env else None,
                             log_to_driver=False, configure_logging=False, include_dashboard=False)
                except (ConnectionError, RuntimeError) as exc:
                    where = address or "this machine"
                    raise ServiceUnavailableError(f"the Ray cluster at {where} cannot be reached ({exc}); start it "
                                                  "with `ray start --head` or set ray.address") from None
                _connected.update(address=address, env=env)
                _notices_to_stderr(ray)
        return ray, self.options.max_retries if self.options.max_retries is not None else settings.max_retries

    def slots(self) -> int:
        ray, _ = self._connect()
        return max(1, int(ray.cluster_resources().get("CPU", 1)))

    def gpus(self) -> float:
        ray, _ = self._connect()
        return float(ray.cluster_resources().get("GPU", 0.0))

    def map(self, fn: Callable[..., Any], items: Sequence[Any], resources: Resources | None = None,
            on_result: Callable[[int, Any], None] | None = None, stop: threading.Event | None = None,
            on_progress: TaskProgress | None = None) -> list[Any]:
        if not items:
            return []
        ray, retries = self._connect()
        need = resources or Resources()
        if need.gpus and self.gpus() < need.gpus:    # Ray would wait for one for ever
            raise InvalidInputError(f"each task needs {need.gpus:g} GPU and the cluster has {self.gpus():g}; add "
                                    "workers with GPUs (ray start --num-gpus N) or run on the CPU (--device cpu)")
        remote = ray.remote(fn if on_progress is None else _reporting).options(
            name=getattr(fn, "__name__", "task"), num_cpus=need.cpus, num_gpus=need.gpus, max_retries=retries,
            memory=need.memory_mb * 2**20 if need.memory_mb else None, retry_exceptions=False)
        queue = None
        if on_progress is not None:     # the workers' events come back through a queue (an actor of no CPU)
            from ray.util.queue import Queue

            queue = Queue(maxsize=10_000, actor_options={"num_cpus": 0})
        index = {(remote.remote(item) if queue is None else remote.remote(fn, item, queue, i)): i
                 for i, item in enumerate(items)}
        results: list[Any] = [None] * len(items)
        pending = list(index)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1, timeout=0.2)
                if stop is not None and stop.is_set():
                    raise CancelledError("the batch was cancelled")
                if queue is not None and on_progress is not None:
                    _forward(queue, on_progress)
                for ref in done:
                    results[index[ref]] = _result(ray, ref, retries)
                    if on_result is not None:
                        on_result(index[ref], results[index[ref]])
            if queue is not None and on_progress is not None:
                _forward(queue, on_progress)     # what the last tasks said before they ended
        except BaseException:
            for ref in pending:            # a failed batch or a Ctrl-C: nothing left running for it
                ray.cancel(ref, force=True)
            raise
        finally:
            if queue is not None:
                queue.shutdown()
        return results


class _Reporter:
    """A task's ``report``: its events go into the run's queue, at most one every half second (and
    every last one of a stage), so a task that reports each frame does not flood the queue."""

    def __init__(self, queue: Any, index: int) -> None:
        self.queue, self.index, self.sent = queue, index, 0.0

    def __call__(self, event: Progress) -> None:
        now = time.monotonic()
        if now - self.sent < 0.5 and not (event.total and event.done >= event.total):
            return
        self.sent = now
        with contextlib.suppress(Exception):   # a full or gone queue costs the task nothing
            self.queue.put_nowait((self.index, event))


def _reporting(fn: Callable[[Any, Any], Any], item: Any, queue: Any, index: int) -> Any:
    """A task that reports: ``fn(item, report)`` on the worker."""
    return fn(item, _Reporter(queue, index))


def _forward(queue: Any, on_progress: TaskProgress) -> None:
    """Hand on what the tasks reported since the last look."""
    count = queue.qsize()
    if count:
        for index, event in queue.get_nowait_batch(count):
            on_progress(index, event)


def _notices_to_stderr(ray: Any) -> None:
    """Ray prints the cluster's notices (a worker died, ...) on the driver's standard output, which
    carries a command's own output (``--json``): they go to standard error instead."""
    module = getattr(getattr(ray, "_private", None), "worker", None)
    printer = getattr(module, "print_to_stdstream", None)
    if printer is None or getattr(printer, "to_stderr", False):
        return

    def to_stderr(data: dict[str, Any], ignore_prefix: bool) -> None:
        printer({**data, "is_err": True}, ignore_prefix)

    to_stderr.to_stderr = True   # type: ignore[attr-defined]
    module.print_to_stdstream = to_stderr


def _result(ray: Any, ref: Any, retries: int) -> Any:
    """The task's result; its own error as it was raised there, a worker lost too often as a StudioError."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause if isinstance(exc.cause, BaseException) else None
        raise (cause or StudioError(str(exc).splitlines()[0])) from None
    except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.ObjectLostError) as exc:
        raise StudioError(f"a task's worker died {retries + 1} times ({type(exc).__name__}); look at the cluster's "
                          "workers (ray status) and run the batch again: finished items are kept") from None
