"""Processes share one budget through the ledger: a process that needs memory another holds asks it to
release its idle models and waits; a holder killed with -9 is reclaimed once its heartbeat stops."""

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


def test_a_killed_holder_is_reclaimed_after_its_heartbeat_stops(env):
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
