"""Runs a model server's command line and ends it when the process that started it ends, however that
happens (a ``kill -9`` included): a server must not outlive the lease that accounts for its memory.

    python -m animstudio.models.child -- vllm serve Qwen/Qwen2.5-7B-Instruct --port 8001

SIGTERM or SIGINT stop the command's whole process group (SIGKILL after a grace period) and exit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

GRACE_S = 15.0


def _stop(proc: subprocess.Popen[bytes]) -> int:
    for sig, wait_s in ((signal.SIGTERM, GRACE_S), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            return proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            continue
    return proc.wait()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = argv[argv.index("--") + 1:] if "--" in argv else argv
    if not command:
        print("usage: python -m animstudio.models.child -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    parent = os.getppid()
    try:
        proc = subprocess.Popen(command, start_new_session=True)
    except OSError as exc:
        print(f"cannot start {command[0]!r}: {exc.strerror}; check the command line", file=sys.stderr)
        return 127

    def on_signal(signum: int, frame: object) -> None:
        sys.exit(_stop(proc))

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while proc.poll() is None:
        if os.getppid() != parent:    # the starter is gone: so is the reason to run
            return _stop(proc)
        time.sleep(0.25)
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
