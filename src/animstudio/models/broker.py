"""The model broker: every model the studio loads goes through it, so one place decides what stays
in memory. A model in use is pinned; idle ones are unloaded least-recently-used first when another
needs the room, or after ``broker.keep_alive_s``. Budgets (``broker.ram_budget``,
``broker.gpu_budget``) hold for every studio process on the machine together: they share a ledger
in the studio home, and a process that needs memory another holds asks it to release idle models.

    with broker().use("whisper-base", load=lambda: WhisperModel(path)) as model:
        model.transcribe(...)

A model lives on its ``device`` ("gpu" or "ram"). Where its kind can move (``Moves``: a torch
module, a diffusers pipeline, a vLLM server in sleep mode), an idle GPU model that must make room is
offloaded to RAM first and moved back on its next use, which is much quicker than loading it again;
other kinds are unloaded.

Sizes: what the broker measured the last time it loaded the model (kept in the warehouse), else the
catalog's file sizes, else the caller's estimate. A model that cannot fit is refused with a
message naming the budget, its size and what holds the memory.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animstudio.errors import StudioError
from animstudio.models.devices import (
    DROP,
    Moves,
    empty_gpu_cache,
    gpu_meter,
    gpu_total,
    peak_rss,
    rss,
    torch_moves,
    total_ram,
)
from animstudio.models.ledger import Device, Ledger

__all__ = ["DROP", "Broker", "BudgetError", "Moves", "broker", "reset", "torch_moves"]

UNITS = {"": 1, "B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}


class BudgetError(StudioError):
    """A model does not fit the memory budget, even after the idle models were released."""

    http_status = 507


def parse_budget(text: str, total: int) -> int:
    """``'6GB'``, ``'512MB'``, ``'1000000'`` (bytes) or a fraction of ``total`` (``'0.8'``) in bytes."""
    value = str(text).strip().upper().replace(" ", "")
    number = value.rstrip("KMGTB")
    unit = value[len(number):]
    try:
        amount = float(number)
    except ValueError:
        raise StudioError(f"budget {text!r} is not a size; give bytes with a unit ('6GB', '512MB') or a fraction "
                          "of the machine's memory ('0.8')") from None
    if unit not in UNITS or amount < 0:
        raise StudioError(f"budget {text!r}: use B, KB, MB, GB or TB, or a fraction like 0.8")
    if not unit and amount <= 1:
        return int(amount * total)
    return int(amount * UNITS[unit])


def human(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(size) < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


@dataclass
class Resident:
    """A model this process holds: on its ``home`` device, or offloaded to RAM when ``device`` is "ram"
    and ``home`` is "gpu"."""

    name: str
    model: Any
    device: Device
    size: int
    load_s: float
    priority: int = 0
    keep_alive_s: float | None = None
    pins: int = 0
    uses: int = 0
    last_used: float = field(default_factory=time.monotonic)
    home: Device = "ram"
    moves: Moves = DROP
    ram_size: int = 0          # what it takes in RAM while offloaded
    moving: bool = False       # being offloaded: a user waits for the move, then brings it back

    @property
    def residency(self) -> str:
        return "offloaded to ram" if self.device != self.home else self.device


@dataclass
class Counters:
    loads: int = 0
    unloads: int = 0
    evictions: int = 0
    released_on_request: int = 0
    offloads: int = 0
    restores: int = 0
    load_seconds: float = 0.0
    offload_seconds: float = 0.0
    restore_seconds: float = 0.0


class Broker:
    def __init__(self, ram_budget: int | None = None, gpu_budget: int | None = None,
                 keep_alive_s: float | None = None, wait_s: float | None = None, ledger: Ledger | None = None,
                 sizes_file: Path | None = None) -> None:
        from animstudio.config import load_settings

        settings = load_settings()
        conf = settings.broker
        configured = configured_budgets()
        self.budgets: dict[Device, int] = {"ram": configured["ram"] if ram_budget is None else ram_budget,
                                           "gpu": configured["gpu"] if gpu_budget is None else gpu_budget}
        self.keep_alive_s = conf.keep_alive_s if keep_alive_s is None else keep_alive_s
        self.wait_s = conf.wait_s if wait_s is None else wait_s
        self.ledger = ledger or Ledger(heartbeat_s=conf.heartbeat_s)
        self.sizes_file = sizes_file or settings.warehouse / "measured-sizes.json"
        self.resident: dict[str, Resident] = {}
        self.counters = Counters()
        self._lock = threading.RLock()
        self._loading: dict[str, threading.Lock] = {}
        self._arriving: set[str] = set()     # models being loaded, whose room the ledger holds
        self._beating: threading.Thread | None = None
        self._stop = threading.Event()

    # ------------------------------------------------------------ using models

    @contextmanager
    def use(self, name: str, load: Callable[[], Any], device: Device = "ram", estimate: int | None = None,
            priority: int = 0, keep_alive_s: float | None = None, moves: Moves = DROP) -> Iterator[Any]:
        """The model ``name`` (loaded by ``load()`` when it is not resident, moved back when it was
        offloaded), pinned while the block runs."""
        with self._lock:
            entry = self.resident.get(name)
            if entry is not None:
                entry.pins += 1
                away = entry.moving or entry.device != entry.home
        if entry is None:
            entry = self._load(name, load, device, estimate, priority, keep_alive_s, moves)
        elif away:
            try:
                self._bring_back(entry)
            except BaseException:
                with self._lock:
                    entry.pins -= 1
                raise
        try:
            yield entry.model
        finally:
            with self._lock:
                entry.pins -= 1
                entry.uses += 1
                entry.last_used = time.monotonic()

    def _gate(self, name: str) -> threading.Lock:
        with self._lock:
            return self._loading.setdefault(name, threading.Lock())

    def _load(self, name: str, load: Callable[[], Any], device: Device, estimate: int | None, priority: int,
              keep_alive_s: float | None, moves: Moves) -> Resident:
        with self._gate(name):
            with self._lock:
                entry = self.resident.get(name)
                if entry is not None:
                    entry.pins += 1
            if entry is not None:
                if entry.device != entry.home:
                    self._bring_back(entry, gated=True)
                return entry
            self._start()
            recorded = int(self._sizes().get(name, 0))
            known = recorded or self._catalog_size(name, estimate)
            # a model of unknown size on the GPU is given the whole budget: it runs alone until measured
            size = known or (self.budgets["gpu"] if device == "gpu" else 0)
            with self._lock:
                self._arriving.add(name)    # the ledger's row holding its room stays while it loads
            try:
                self.make_room(device, size, name)
                gpu_taken = gpu_meter() if device == "gpu" and moves.measure is None else None
                before, peak_before, started = rss(), peak_rss(), time.perf_counter()
                try:
                    model = load()
                except BaseException:
                    self.ledger.release(name, device)   # the room held for it
                    raise
            except BaseException:
                with self._lock:
                    self._arriving.discard(name)
                raise
            seconds = time.perf_counter() - started
            if moves.measure is not None:
                measured = int(moves.measure(model, device))
            elif device == "ram":
                # the most the load took at once: a loader that reads weights while mapping them peaks
                # above what stays, and that peak is what the budget must allow for
                peak = peak_rss()   # a new high-water mark set during the load, if any
                measured = max(rss(), peak if peak > peak_before else 0) - before
            else:
                assert gpu_taken is not None
                measured = gpu_taken()
            # what the load took, for next time; a reload into memory the last unload freed (and the
            # allocator kept) measures less than the model needs, and weights mapped from their file
            # count only once touched, so a measure never lowers what is known
            if measured > max(known, 1 << 20):
                self._record_size(name, measured)
            if measured > (1 << 20) or known:
                size = max(known, measured)
            entry = Resident(name, model, device, size, seconds, priority, keep_alive_s, pins=1, home=device,
                             moves=moves)
            with self._lock:
                self.resident[name] = entry
                self._arriving.discard(name)
                self.counters.loads += 1
                self.counters.load_seconds += seconds
            self.ledger.hold(name, device, size, pinned=True)
            while self.ledger.used(device) > self.budgets[device] and self._evict_one(device):
                pass   # it took more than was thought: idle models make way now
            return entry

    # ------------------------------------------------------------ offload to RAM and back

    def _bring_back(self, entry: Resident, gated: bool = False) -> None:
        """Move an offloaded model (pinned by the caller) back to its GPU, making room there first."""
        gate = self._gate(entry.name)
        if not gated:
            gate.acquire()
        try:
            if entry.device == entry.home:
                return   # another user brought it back meanwhile
            self.make_room(entry.home, entry.size, entry.name)
            started = time.perf_counter()
            assert entry.moves.to_gpu is not None
            try:
                entry.model = entry.moves.to_gpu(entry.model)
            except BaseException:
                self.ledger.release(entry.name, entry.home)   # the room held for it
                raise
            seconds = time.perf_counter() - started
            with self._lock:
                entry.device = entry.home
                self.counters.restores += 1
                self.counters.restore_seconds += seconds
            self.ledger.release(entry.name, "ram")
            self.ledger.hold(entry.name, entry.home, entry.size, pinned=True)
        finally:
            if not gated:
                gate.release()

    def offload(self, name: str) -> bool:
        """Move an idle GPU model to RAM where its kind allows and RAM has room; False otherwise."""
        with self._lock:
            entry = self.resident.get(name)
            if (entry is None or entry.pins or entry.moving or entry.device != "gpu" or entry.moves.to_ram is None
                    or entry.moves.to_gpu is None):
                return False
            entry.moving = True
        try:
            with self._gate(name):
                if not self._room_now("ram", entry.ram_size or entry.size, name):
                    return False
                before, started = rss(), time.perf_counter()
                try:
                    moved = entry.moves.to_ram(entry.model)
                except BaseException:
                    self.ledger.release(name, "ram")
                    raise
                seconds = time.perf_counter() - started
                if moved is None:
                    self.ledger.release(name, "ram")
                    return False
                measured = entry.moves.measure(moved, "ram") if entry.moves.measure else rss() - before
                with self._lock:
                    entry.model, entry.device = moved, "ram"
                    entry.ram_size = max(int(measured), entry.ram_size) if measured > (1 << 20) else \
                        (entry.ram_size or entry.size)
                    self.counters.offloads += 1
                    self.counters.offload_seconds += seconds
                self.ledger.release(name, "gpu")
                self.ledger.hold(name, "ram", entry.ram_size)
                return True
        finally:
            with self._lock:
                entry.moving = False

    def _room_now(self, device: Device, size: int, name: str) -> bool:
        """Whether ``size`` bytes fit ``device`` now, after unloading this process's idle models there
        (nobody is asked and nothing waits); when they do, they are held for ``name``."""
        while not self.ledger.reserve(name, device, size, self.budgets[device]):
            if not self._evict_one(device):
                return False
        return True

    # ------------------------------------------------------------ budgets

    def size_of(self, name: str, estimate: int | None = None) -> int:
        """Bytes ``name`` takes: as measured before, else its catalog files' size, else ``estimate``."""
        measured = self._sizes().get(name)
        return int(measured) if measured else self._catalog_size(name, estimate)

    @staticmethod
    def _catalog_size(name: str, estimate: int | None) -> int:
        """The size of ``name``'s files in the catalog, else ``estimate`` (0 when neither is known)."""
        try:
            from animstudio.models.catalog import get_entry

            return get_entry(name.split(":")[0]).size
        except StudioError:
            return int(estimate or 0)

    def make_room(self, device: Device, size: int, name: str) -> None:
        """Release idle models (this process's first, then other processes') until ``size`` bytes fit,
        and hold them for ``name`` in the ledger (the caller releases them if the model does not come)."""
        budget = self.budgets[device]
        if size > budget:
            raise BudgetError(f"{name} needs {human(size)} of {device.upper()}, over the whole budget of "
                              f"{human(budget)}; raise broker.{device}_budget or use a smaller model")
        deadline = time.monotonic() + self.wait_s
        asked: set[int] = set()
        while True:
            self.ledger.reclaim()
            if self.ledger.reserve(name, device, size, budget):   # held for it now: no other process takes it
                return
            used = self.ledger.used(device)
            if self._evict_one(device):
                continue
            others = [h for h in self.ledger.holdings() if h.pid != self.ledger.pid and h.device == device]
            for pid in {h.pid for h in others if not h.pinned} - asked:
                self.ledger.ask(pid, device, used + size - budget)
                asked.add(pid)
            if time.monotonic() > deadline:
                held = ", ".join(f"{h.model} {human(h.bytes)} (pid {h.pid} {h.command}"
                                 f"{', in use' if h.pinned else ''})" for h in self.ledger.holdings()
                                 if h.device == device) or "nothing"
                raise BudgetError(f"{name} needs {human(size)} of {device.upper()} but {human(used)} of the "
                                  f"{human(budget)} budget is held: {held}; free them (animstudio models free) or "
                                  f"raise broker.{device}_budget")
            time.sleep(0.1)

    def _evict_one(self, device: Device) -> bool:
        with self._lock:
            idle = [e for e in self.resident.values() if e.device == device and e.pins == 0]
            if not idle:
                return False
            victim = min(idle, key=lambda e: (e.priority, e.last_used))
        if not (device == "gpu" and self.offload(victim.name)) and not self.unload(victim.name):
            return False
        self.counters.evictions += 1
        return True

    def unload(self, name: str) -> bool:
        """Drop a model that is not in use; False when it is in use or not held."""
        with self._lock:
            entry = self.resident.get(name)
            if entry is None or entry.pins or entry.moving:
                return False
            del self.resident[name]
            self.counters.unloads += 1
        model, entry.model = entry.model, None
        try:
            if entry.moves.release is not None:
                entry.moves.release(model)
        finally:
            del model
            gc.collect()
            if entry.home == "gpu":
                empty_gpu_cache()
            self.ledger.release(name)   # once the memory is free: another process may take it now
        return True

    def free(self, name: str | None = None) -> list[str]:
        """Unload every idle model (or the one named); the names unloaded."""
        with self._lock:
            names = [n for n, e in self.resident.items() if (name is None or n == name) and e.pins == 0]
        return [n for n in names if self.unload(n)]

    # ------------------------------------------------------------ the ledger, kept current

    def _start(self) -> None:
        if self._beating is not None:
            return
        self.ledger.join()
        self._beating = threading.Thread(target=self._beat, name="model-broker", daemon=True)
        self._beating.start()
        atexit.register(self.close)

    def _beat(self) -> None:
        while not self._stop.wait(self.ledger.heartbeat_s):
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - a busy ledger must not kill the heartbeat
                continue

    def tick(self) -> None:
        """One heartbeat: say we are alive, record uses and pins, honour release requests, expire idle models."""
        self.ledger.beat()
        with self._lock:
            entries = list(self.resident.values())
        wall, mono = time.time(), time.monotonic()
        for e in entries:
            self.ledger.hold(e.name, e.device, e.size if e.device == e.home else e.ram_size, pinned=e.pins > 0,
                             last_used=wall - (mono - e.last_used))
        with self._lock:
            # rows written for a model unloaded meanwhile go; one being loaded keeps the room held for it
            self.ledger.keep_only(set(self.resident) | self._arriving)
        for ask in self.ledger.asks():
            freed = 0
            while freed < ask.bytes:
                with self._lock:
                    idle = [e for e in self.resident.values() if e.device == ask.device and e.pins == 0
                            and (not ask.model or e.name == ask.model)]
                if not idle:
                    break
                victim = min(idle, key=lambda e: (e.priority, e.last_used))
                if (ask.device == "gpu" and self.offload(victim.name)) or self.unload(victim.name):
                    freed += victim.size
                    self.counters.released_on_request += 1
                else:
                    break
        now = time.monotonic()
        for e in entries:
            alive = self.keep_alive_s if e.keep_alive_s is None else e.keep_alive_s
            if alive and e.pins == 0 and now - e.last_used > alive:
                self.unload(e.name)

    def close(self) -> None:
        self._stop.set()
        if self._beating is not None:
            self.ledger.leave()

    # ------------------------------------------------------------ what is where

    def status(self) -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            models = [{"name": e.name, "device": e.device, "home": e.home, "residency": e.residency,
                       "bytes": e.size if e.device == e.home else e.ram_size, "pins": e.pins, "uses": e.uses,
                       "idle_s": round(now - e.last_used, 1), "load_s": round(e.load_s, 3),
                       "can_offload": e.moves.to_ram is not None}
                      for e in self.resident.values()]
        return {"pid": os.getpid(), "budgets": dict(self.budgets), "models": models,
                "counters": vars(self.counters).copy()}

    def _sizes(self) -> dict[str, int]:
        try:
            return json.loads(self.sizes_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _record_size(self, name: str, size: int) -> None:
        from animstudio.files import write_text_atomic

        sizes = self._sizes()
        sizes[name] = int(size)
        try:
            self.sizes_file.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(self.sizes_file, json.dumps(sizes, indent=1, sort_keys=True))
        except OSError:
            pass   # a read-only warehouse: the estimate is used next time


def configured_budgets() -> dict[Device, int]:
    from animstudio.config import load_settings

    conf = load_settings().broker
    return {"ram": parse_budget(conf.ram_budget, total_ram()), "gpu": parse_budget(conf.gpu_budget, gpu_total())}


def machine_status(ledger: Ledger | None = None) -> dict[str, Any]:
    """Every studio process holding models on this machine, what each holds, and the budgets (read from
    the ledger; this process loads nothing)."""
    ledger = ledger or Ledger()
    ledger.reclaim()
    budgets = configured_budgets()
    holders = [{"pid": pid, "command": command, "started": started, "heartbeat_age_s": round(time.time() - beat, 1)}
               for pid, command, started, beat in ledger.holders()]
    models = [{"pid": h.pid, "command": h.command, "model": h.model, "device": h.device, "bytes": h.bytes,
               "idle_s": round(time.time() - h.last_used, 1), "in_use": h.pinned} for h in ledger.holdings()]
    used = {device: sum(m["bytes"] for m in models if m["device"] == device) for device in budgets}
    return {"budgets": budgets, "used": used, "holders": holders, "models": models}


def ask_to_free(name: str | None = None, wait_s: float = 10.0, ledger: Ledger | None = None) -> list[str]:
    """Ask every process holding ``name`` (or anything) to release its idle models; wait for them up
    to ``wait_s``. The models released, as "model (pid)"."""
    ledger = ledger or Ledger()
    ledger.reclaim()
    before = {(h.pid, h.model) for h in ledger.holdings() if name is None or h.model.split(":")[0] == name
              or h.model == name}
    for pid, model in before:
        ledger.ask(pid, "ram", 1 << 62, model)
        ledger.ask(pid, "gpu", 1 << 62, model)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        now = {(h.pid, h.model) for h in ledger.holdings()}
        if not before & now:
            break
        time.sleep(0.1)
    gone = before - {(h.pid, h.model) for h in ledger.holdings()}
    return sorted(f"{model} ({pid})" for pid, model in gone)


_BROKER: Broker | None = None
_BROKER_LOCK = threading.Lock()


def broker() -> Broker:
    """This process's broker (made on first use with the configured budgets)."""
    global _BROKER
    if _BROKER is None:
        with _BROKER_LOCK:
            if _BROKER is None:
                _BROKER = Broker()
    return _BROKER


def reset() -> None:
    """Forget this process's broker (its models are dropped); tests and a changed configuration use it."""
    global _BROKER
    with _BROKER_LOCK:
        if _BROKER is not None:
            _BROKER.free()
            _BROKER.close()
        _BROKER = None
