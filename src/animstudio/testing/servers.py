"""Real servers on free loopback ports, for tests and benchmarks: any command that answers a health
URL, the responder (a tiny OpenAI-compatible upstream) and `animstudio llm serve` gateways.

    with running_responder("--fail-first", "1") as upstream:          # "http://127.0.0.1:PORT/v1"
        with running_gateway("--upstream", f"echo={upstream}@echo") as gateway:
            httpx.post(f"{gateway}/chat/completions", json={...})

Each runs as its own process and is stopped when the ``with`` block ends; one that exits or does not
answer in time raises RuntimeError with the tail of its output.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

RESPONDER = Path(__file__).with_name("responder.py")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_process(cmd: list[str], port: int, env: dict[str, str] | None = None, what: str = "server",
                    wait_s: float = 15, health: str = "/health", cwd: Path | None = None,
                    suffix: str = "/v1") -> Iterator[str]:
    """Run ``cmd`` until it answers ``health`` on ``port``; yields its URL (+ ``suffix``); stops it after.
    Its output goes to a log file whose tail is shown if it fails to start."""
    import httpx

    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)

        def tail() -> str:
            log.seek(0)
            return log.read().decode(errors="replace")[-800:]

        try:
            deadline = time.monotonic() + wait_s
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{what} exited ({proc.returncode}): {tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"http://127.0.0.1:{port}{health}", timeout=1).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{what} did not answer {health} within {wait_s:g} s: {tail()}")
                time.sleep(0.02)
            yield f"http://127.0.0.1:{port}{suffix}"
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def running_responder(*flags: str) -> contextlib.AbstractContextManager[str]:
    """Start the responder (``python -m animstudio.testing.responder``) on a free loopback port with
    ``flags`` (``--fail-first K``, ``--status S``, ...); yields its ``/v1`` URL; stops it after."""
    port = free_port()
    return running_process([sys.executable, "-m", "animstudio.testing.responder", "--port", str(port), *flags],
                           port, what="responder")


def running_gateway(*args: str, env: dict[str, str] | None = None) -> contextlib.AbstractContextManager[str]:
    """Start `animstudio llm serve ARGS` on a free loopback port; yields its ``/v1`` URL."""
    port = free_port()
    return running_process([sys.executable, "-m", "animstudio", "llm", "serve", "--port", str(port), *args], port,
                           env, "gateway", 60)
