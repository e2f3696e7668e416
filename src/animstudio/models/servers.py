"""Model servers in their own processes (a vLLM or llama.cpp server, GPT-SoVITS), held through the
broker like any model: started on first use, counted against the budget of the device they run on,
put to sleep (vLLM's sleep mode: weights to RAM) or stopped when the memory is wanted or after their
keep-alive, and stopped with the process that started them, however it ends.

    qwen = Server("qwen", "vllm serve Qwen/Qwen2.5-7B-Instruct --port 8001 --enable-sleep-mode",
                  "http://127.0.0.1:8001", device="gpu", memory="18GB")
    with qwen.use():
        httpx.post(qwen.url + "/v1/chat/completions", json=...)

Its size: ``memory`` as declared, else what the broker measured last time (the process tree's RSS
in RAM; on a GPU what NVML shows it took); a server never measured on a GPU is given the whole GPU
budget, so it runs alone until its size is known.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from animstudio.errors import ServiceUnavailableError
from animstudio.models.broker import Broker, Moves, broker, parse_budget
from animstudio.models.devices import nvml_used
from animstudio.models.ledger import Device

READY_PATHS = ("/health", "/v1/models")


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def tree_rss(pid: int) -> int:
    """Resident memory of ``pid`` and its descendants, bytes."""
    total = 0
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/statm", encoding="ascii") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total


def tree_gpu(pid: int) -> int:
    """GPU memory the processes of ``pid``'s tree hold, as NVML reports them (0 where it cannot tell)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        pids = set(descendants(pid))
        total = 0
        for i in range(pynvml.nvmlDeviceGetCount()):
            for p in pynvml.nvmlDeviceGetComputeRunningProcesses(pynvml.nvmlDeviceGetHandleByIndex(i)):
                if p.pid in pids and p.usedGpuMemory:
                    total += int(p.usedGpuMemory)
        return total
    except Exception:  # noqa: BLE001 - no driver, or a container that hides host pids
        return 0


def has_gpu() -> bool:
    return nvml_used() is not None


class Server:
    """One model server: its command line, where it answers, and how the broker treats it."""

    def __init__(self, name: str, command: str, url: str, *, device: str = "auto", memory: str | int | None = None,
                 keep_alive_s: float = 600.0, startup_s: float = 600.0, ready_paths: tuple[str, ...] = READY_PATHS,
                 sleep: bool | None = None, log: Path | None = None, broker: Broker | None = None,
                 any_answer_is_ready: bool = False) -> None:
        self.name, self.command = name, command
        self.url = url.rstrip("/").removesuffix("/v1")
        self.device: Device = ("gpu" if has_gpu() else "ram") if device == "auto" else device  # type: ignore[assignment]
        self.memory = parse_budget(str(memory), 0) if memory not in (None, "") else None
        self.keep_alive_s, self.startup_s, self.ready_paths = keep_alive_s, startup_s, ready_paths
        self.sleep = sleep          # None: asked of the server (GET /is_sleeping answers where sleep mode is on)
        self.log = log
        # a server that loads its models before it listens is ready at its first answer, whatever it says
        self.any_answer_is_ready = any_answer_is_ready
        self._broker = broker
        self.process: subprocess.Popen[bytes] | None = None
        self._card_taken = 0
        self.moves = Moves(to_ram=self._to_ram, to_gpu=self._to_gpu, release=self._stop, measure=self._measure)

    @property
    def key(self) -> str:
        """The name the broker and the ledger know it by."""
        return f"server:{self.name}"

    @property
    def broker(self) -> Broker:
        return self._broker or broker()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def residency(self) -> str | None:
        found = self.broker.resident.get(self.key)
        return found.residency if found is not None else None

    @contextmanager
    def use(self) -> Iterator[Server]:
        """The server, started (or woken) if need be, kept up while the block runs."""
        for attempt in range(2):
            entered = False
            try:
                with self.broker.use(self.key, self._start, device=self.device, estimate=self.memory,
                                     keep_alive_s=self.keep_alive_s, moves=self.moves) as process:
                    if process.poll() is None:
                        entered = True
                        yield self
                        return
            except ServiceUnavailableError:
                if entered or attempt or self.running:
                    raise       # a server that is up and failed, or failed twice: say so
            self.broker.unload(self.key)   # it died since it was last used: start it again
        raise ServiceUnavailableError(f"model server {self.name!r} keeps exiting; see its log: {self._log_path()}")

    def stop(self) -> bool:
        """Stop it now unless a request is using it."""
        return self.broker.unload(self.key)

    # ------------------------------------------------------------ the process

    def _log_path(self) -> Path:
        if self.log is not None:
            return self.log
        from animstudio.config import load_settings

        return load_settings().home / "logs" / f"server-{self.name}.log"

    def _start(self) -> subprocess.Popen[bytes]:
        log = self._log_path()
        log.parent.mkdir(parents=True, exist_ok=True)
        card_before = nvml_used() if self.device == "gpu" else None
        with open(log, "ab") as out:
            out.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {self.command}\n".encode())
            out.flush()
            process = subprocess.Popen([sys.executable, "-m", "animstudio.models.child", "--",
                                        *shlex.split(self.command)], stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
        self.process = process
        deadline = time.monotonic() + self.startup_s
        while not self._ready():
            if process.poll() is not None:
                raise ServiceUnavailableError(f"model server {self.name!r} exited at start ({self._last_line(log)}); "
                                              f"see {log}, or run its command by hand: {self.command}")
            if time.monotonic() > deadline:
                self._stop(process)
                raise ServiceUnavailableError(f"model server {self.name!r} did not answer within {self.startup_s:g} s "
                                              f"at {self.url}; see {log}")
            time.sleep(0.1)
        card_after = nvml_used() if card_before is not None else None
        self._card_taken = card_after - card_before if card_before is not None and card_after is not None else 0
        return process

    @staticmethod
    def _last_line(log: Path) -> str:
        try:
            lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return "no log"
        return lines[-1][-200:] if lines and not lines[-1].startswith("--- ") else "it printed nothing"

    def _ready(self) -> bool:
        for path in self.ready_paths:
            try:
                status = httpx.get(self.url + path, timeout=2).status_code
            except httpx.HTTPError:
                continue
            if self.any_answer_is_ready or (status < 500 and status != 404):   # a 4xx to a bare GET counts
                return True
        return False

    def _stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            process.terminate()      # the supervisor stops the command's whole process group
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.process is process:
            self.process = None

    def _measure(self, process: subprocess.Popen[bytes], device: Device) -> int:
        if device == "ram":
            return tree_rss(process.pid)
        return max(tree_gpu(process.pid), self._card_taken)

    # ------------------------------------------------------------ sleep mode

    def _sleeps(self) -> bool:
        if self.sleep is None:
            try:
                self.sleep = httpx.get(self.url + "/is_sleeping", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False
        return self.sleep

    def _to_ram(self, process: subprocess.Popen[bytes]) -> Any:
        if self.device != "gpu" or not self._sleeps():
            return None            # no sleep mode: the broker stops it instead
        try:
            done = httpx.post(self.url + "/sleep", params={"level": 1}, timeout=120)
        except httpx.HTTPError:
            return None
        return process if done.status_code == 200 else None

    def _to_gpu(self, process: subprocess.Popen[bytes]) -> Any:
        try:
            done = httpx.post(self.url + "/wake_up", timeout=self.startup_s)
        except httpx.HTTPError as exc:
            raise ServiceUnavailableError(f"model server {self.name!r} did not wake up: {exc}") from None
        if done.status_code != 200:
            raise ServiceUnavailableError(f"model server {self.name!r} did not wake up (HTTP {done.status_code}); "
                                          f"see {self._log_path()}")
        return process


