"""Processes share one budget through the ledger: a process that needs memory another holds asks it to
release its idle models and waits; a holder killed with -9 is reclaimed once its process is gone, and a
live one slow to beat keeps what it holds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

HOLDER = textwrap.dedent("""
    import sys, time
    import numpy as np
    from animstudio.models.broker import broker
    hold = broker().use("first-model", lambda: np.ones(200 << 20, np.uint8), estimate=200 << 20)
    hold.__enter__()
    if sys.argv[1] == "idle":
        hold.__exit__(None, None, None)     # loaded, then idle: it may be asked to let go
    print("holding", flush=True)
    time.sleep(120)
""")
WAITER = textwrap.dedent("""
    import time
    import numpy as np
    from animstudio.models.broker import broker
    started = time.monotonic()
    with broker().use("second-model", lambda: np.ones(200 << 20, np.uint8), estimate=200 << 20):
        print(f"got it after {time.monotonic() - started:.2f} s", flush=True)
""")

TAKER = textwrap.dedent("""
    import sys, time
    import numpy as np
    from animstudio.models.broker import broker
    b = broker()
    times = {}
    def load():
        times["loading"] = time.time()
        return np.ones(200 << 20, np.uint8)
    time.sleep(max(0.0, float(sys.argv[1]) - time.time()))     # every taker asks at the same moment
    with b.use("model-" + sys.argv[2], load, estimate=200 << 20) as weights:
        weights[::4096] = 2        # in use
        time.sleep(0.3)
    b.free()
    print(times["loading"], time.time(), flush=True)
""")


@pytest.fixture
def env(tmp_path):
    return dict(os.environ, ANIMSTUDIO_HOME=str(tmp_path / "home"), ANIMSTUDIO_BROKER__RAM_BUDGET="300MB",
                ANIMSTUDIO_BROKER__HEARTBEAT_S="0.3", ANIMSTUDIO_BROKER__WAIT_S="20",
                ANIMSTUDIO_BROKER__KEEP_ALIVE_S="0")


def start_holder(mode: str, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, mode], env=env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def run_waiter(env: dict) -> tuple[float, str]:
    done = subprocess.run([sys.executable, "-c", WAITER], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return float(done.stdout.split()[3]), done.stdout


def test_a_second_process_gets_the_memory_an_idle_holder_releases(env):
    holder = start_holder("idle", env)
    try:
        seconds, _ = run_waiter(env)
        assert seconds < 3.0   # asked over the ledger, released at the holder's next heartbeat
        status = subprocess.run([sys.executable, "-m", "animstudio", "models", "status", "--json"], env=env,
                                capture_output=True, text=True)
        assert '"first-model"' not in status.stdout   # the holder let it go
    finally:
        holder.kill()
        holder.wait()


def test_a_killed_holder_is_reclaimed_once_its_process_is_gone(env):
    holder = start_holder("busy", env)   # its model is in use: it cannot be asked to let go
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    started = time.monotonic()
    seconds, _ = run_waiter(env)
    assert seconds < 5.0 and time.monotonic() - started < 15   # the dead holder's lease went


def test_a_busy_holder_makes_the_other_wait_then_fail_naming_it(env):
    env = dict(env, ANIMSTUDIO_BROKER__WAIT_S="1")
    holder = start_holder("busy", env)
    try:
        done = subprocess.run([sys.executable, "-c", WAITER], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0
        last = done.stderr.strip().splitlines()[-1]
        assert "second-model needs 200.0 MB of RAM" in last and "first-model" in last and f"pid {holder.pid}" in last
        assert "in use" in last
    finally:
        holder.kill()
        holder.wait()


def test_processes_asking_at_once_for_the_last_room_take_it_one_at_a_time(env):
    # 300 MB of budget, three processes wanting 200 MB each at the same moment: checking the room and
    # holding it are one step in the ledger, so no two of them ever hold their model at once
    at = time.time() + 3
    takers = [subprocess.Popen([sys.executable, "-c", TAKER, str(at), str(i)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True) for i in range(3)]
    spans = []
    for taker in takers:
        out, err = taker.communicate(timeout=60)
        assert taker.returncode == 0, err
        spans.append(tuple(map(float, out.split())))
    spans.sort()
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:], strict=False)), spans


def test_a_holder_slow_to_beat_keeps_its_models_until_it_is_gone(tmp_path):
    from animstudio.models.ledger import SILENT_S, Ledger, _alive

    ledger = Ledger(tmp_path / "ledger.sqlite", heartbeat_s=0.1)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        joined = time.time()
        with ledger._db() as db:       # the other process holds a model and last beat 10 s ago
            db.execute("INSERT INTO holders VALUES (?, 'busy', ?, ?)", (other.pid, joined, joined - 10))
            db.execute("INSERT INTO held VALUES (?, 'big', 'gpu', 1000, ?, 0)", (other.pid, joined))
        assert ledger.reclaim() == [] and ledger.used("gpu") == 1000     # busy, not gone: its memory is in use
        with ledger._db() as db:
            db.execute("UPDATE holders SET heartbeat = ? WHERE pid = ?", (joined - SILENT_S - 1, other.pid))
        assert ledger.reclaim() == [other.pid] and ledger.used("gpu") == 0   # silent for a minute: gone
        assert _alive(other.pid)
        other.kill()
        os.waitid(os.P_PID, other.pid, os.WEXITED | os.WNOWAIT)   # ended, and left as a zombie (not reaped)
        assert not _alive(other.pid)
    finally:
        other.kill()
        other.wait()
    assert not _alive(other.pid)
