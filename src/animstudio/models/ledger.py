"""The ledger every studio process on a machine shares: who is alive, which models each holds (device,
bytes, last use, pins), and requests from one process to another to release memory. A SQLite file
in the studio home; a process beats its heartbeat, and a holder whose heartbeat stopped (or whose
pid is gone) is reclaimed by the next process that looks.

    ledger = Ledger()                       # <home>/models/ledger.sqlite
    ledger.join()                           # this process, alive
    ledger.hold("whisper-base", "ram", 150_000_000, pinned=True)
    ledger.used("ram")                      # bytes held by every live process
    ledger.ask(other_pid, "ram", 1 << 30)   # please release idle models
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

Device = str   # "ram" or "gpu"

SCHEMA = """
CREATE TABLE IF NOT EXISTS holders (pid INTEGER PRIMARY KEY, command TEXT NOT NULL, started REAL NOT NULL,
    heartbeat REAL NOT NULL);
CREATE TABLE IF NOT EXISTS held (pid INTEGER NOT NULL, model TEXT NOT NULL, device TEXT NOT NULL,
    bytes INTEGER NOT NULL, last_used REAL NOT NULL, pinned INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (pid, model, device));
CREATE TABLE IF NOT EXISTS asks (id INTEGER PRIMARY KEY AUTOINCREMENT, from_pid INTEGER NOT NULL,
    to_pid INTEGER NOT NULL, device TEXT NOT NULL, bytes INTEGER NOT NULL, model TEXT NOT NULL DEFAULT '',
    time REAL NOT NULL);
"""


@dataclass(frozen=True)
class Holding:
    pid: int
    command: str
    model: str
    device: Device
    bytes: int
    last_used: float
    pinned: bool


@dataclass(frozen=True)
class Ask:
    id: int
    from_pid: int
    device: Device
    bytes: int
    model: str


SILENT_S = 60.0   # a live process may be too busy to beat for a while (a long load, an offload)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie has ended). A number given to a later process is not caught here
    (the wall clock cannot date a process reliably: a virtual machine restored from a snapshot moves
    it); such a holder never beats, and a minute's silence releases what it held."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]    # after the command's name, which may hold spaces
    except FileNotFoundError:
        return False
    except OSError:      # no /proc here: the signal check alone
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return state not in ("Z", "X")


class Ledger:
    def __init__(self, path: str | os.PathLike[str] | None = None, heartbeat_s: float = 2.0) -> None:
        if path is None:
            from animstudio.config import load_settings

            path = load_settings().home / "models" / "ledger.sqlite"
        self.path = Path(path)
        self.heartbeat_s = heartbeat_s
        self.pid = os.getpid()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            part = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.part")
            try:
                db = sqlite3.connect(part, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(SCHEMA)
                db.close()
                with contextlib.suppress(FileExistsError):
                    os.link(part, self.path)   # built whole, then named: no reader sees it without tables
            finally:
                part.unlink(missing_ok=True)

    def _db(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA busy_timeout=30000")
        return db

    def join(self) -> None:
        now = time.time()
        command = " ".join(os.path.basename(a) for a in sys.argv[:3])[:200] or "python"
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO holders VALUES (?, ?, ?, ?)", (self.pid, command, now, now))

    def beat(self) -> None:
        with self._db() as db:
            beaten = db.execute("UPDATE holders SET heartbeat = ? WHERE pid = ?", (time.time(), self.pid)).rowcount
        if not beaten:      # taken for gone after a long silence: back in (the next tick writes its models again)
            self.join()

    def leave(self) -> None:
        with self._db() as db:
            for table in ("held", "holders"):
                db.execute(f"DELETE FROM {table} WHERE pid = ?", (self.pid,))
            db.execute("DELETE FROM asks WHERE to_pid = ? OR from_pid = ?", (self.pid, self.pid))

    def reclaim(self) -> list[int]:
        """Forget holders whose process ended, and those silent for 3 heartbeats and at least
        :data:`SILENT_S` (a process this host cannot see, or a hung one); their pids. A live process
        that is only slow to beat keeps what it holds: its memory is still in use."""
        stale = []
        limit = time.time() - max(3 * self.heartbeat_s, SILENT_S)
        with self._db() as db:
            for pid, beat in db.execute("SELECT pid, heartbeat FROM holders").fetchall():
                if pid != self.pid and (beat < limit or not _alive(pid)):
                    stale.append(pid)
            for pid in stale:
                for table, key in (("held", "pid"), ("holders", "pid"), ("asks", "to_pid")):
                    db.execute(f"DELETE FROM {table} WHERE {key} = ?", (pid,))
        return stale

    def hold(self, model: str, device: Device, size: int, pinned: bool = False, last_used: float | None = None) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO held VALUES (?, ?, ?, ?, ?, ?)",
                       (self.pid, model, device, int(size), time.time() if last_used is None else last_used,
                        int(pinned)))

    def reserve(self, model: str, device: Device, size: int, budget: int) -> bool:
        """Hold ``size`` bytes of ``device`` for ``model`` (pinned) if what every live process holds
        there leaves room under ``budget``; False, holding nothing new, if not. Check and hold are one
        transaction, so two processes that look at once cannot both take the last room."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                used = db.execute("SELECT COALESCE(SUM(bytes), 0) FROM held WHERE device = ? AND NOT "
                                  "(pid = ? AND model = ?)", (device, self.pid, model)).fetchone()[0]
                room = int(used) + int(size) <= budget
                if room:
                    db.execute("INSERT OR REPLACE INTO held VALUES (?, ?, ?, ?, ?, 1)",
                               (self.pid, model, device, int(size), time.time()))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return room

    def release(self, model: str, device: Device | None = None) -> None:
        with self._db() as db:
            if device is None:
                db.execute("DELETE FROM held WHERE pid = ? AND model = ?", (self.pid, model))
            else:
                db.execute("DELETE FROM held WHERE pid = ? AND model = ? AND device = ?", (self.pid, model, device))

    def keep_only(self, models: set[str]) -> None:
        """Forget this process's rows for models it no longer holds."""
        with self._db() as db:
            for (model,) in db.execute("SELECT model FROM held WHERE pid = ?", (self.pid,)).fetchall():
                if model not in models:
                    db.execute("DELETE FROM held WHERE pid = ? AND model = ?", (self.pid, model))

    def holdings(self) -> list[Holding]:
        with self._db() as db:
            rows = db.execute("SELECT h.pid, COALESCE(p.command, '?'), h.model, h.device, h.bytes, h.last_used, "
                              "h.pinned FROM held h LEFT JOIN holders p ON p.pid = h.pid "
                              "ORDER BY h.pid, h.last_used").fetchall()
        return [Holding(r[0], r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows]

    def holders(self) -> list[tuple[int, str, float, float]]:
        with self._db() as db:
            return db.execute("SELECT pid, command, started, heartbeat FROM holders ORDER BY started").fetchall()

    def used(self, device: Device, others_only: bool = False) -> int:
        with self._db() as db:
            sql = "SELECT COALESCE(SUM(bytes), 0) FROM held WHERE device = ?" + (" AND pid != ?" if others_only else "")
            return int(db.execute(sql, (device, self.pid) if others_only else (device,)).fetchone()[0])

    def ask(self, to_pid: int, device: Device, size: int, model: str = "") -> None:
        """Ask ``to_pid`` to release idle models (``model`` only, if named) to free ``size`` bytes."""
        with self._db() as db:
            db.execute("INSERT INTO asks (from_pid, to_pid, device, bytes, model, time) VALUES (?, ?, ?, ?, ?, ?)",
                       (self.pid, to_pid, device, int(size), model, time.time()))

    def asks(self) -> list[Ask]:
        """Requests to this process, removed as they are read."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            rows = db.execute("SELECT id, from_pid, device, bytes, model FROM asks WHERE to_pid = ?",
                              (self.pid,)).fetchall()
            db.execute("DELETE FROM asks WHERE to_pid = ?", (self.pid,))
            db.execute("COMMIT")
        return [Ask(*r) for r in rows]
