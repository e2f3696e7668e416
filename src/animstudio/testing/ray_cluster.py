"""A Ray cluster on this machine for tests and benchmarks: a head and worker nodes, each its own set
of processes started with ``ray start`` on loopback, as on separate hosts; stopped after.

    with ray_cluster(workers=1, cpus=1) as address:       # "127.0.0.1:PORT"
        RayExecutor(address=address).map(fn, items)

While it runs, this process's environment holds the cluster's token (``RAY_AUTH_TOKEN``), which its
clients need. ``ray stop`` stops every Ray node of this machine: nothing else should run one meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from animstudio.testing.servers import free_port


def _ray() -> str:
    found = Path(sys.executable).with_name("ray")
    return str(found) if found.exists() else (shutil.which("ray") or "ray")


def _start(*args: str, env: dict[str, str]) -> None:
    done = subprocess.run([_ray(), "start", *args, "--disable-usage-stats"], capture_output=True, text=True, env=env,
                          timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"ray start {' '.join(args)} failed: {(done.stderr or done.stdout)[-800:]}")


@contextlib.contextmanager
def ray_cluster(workers: int = 1, cpus: int = 1, env: dict[str, str] | None = None) -> Iterator[str]:
    """A head and ``workers`` worker nodes of ``cpus`` each (the head takes tasks too); yields the address.
    ``env`` is what the nodes' processes see (default: this process's environment)."""
    token = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}   # the nodes' and clients' own
    env = {**(env if env is not None else os.environ), **token}
    folder = tempfile.mkdtemp(prefix="ray", dir="/tmp")     # short: Ray's socket paths must fit 107 bytes
    port = free_port()
    address = f"127.0.0.1:{port}"
    before = {k: os.environ.get(k) for k in token}
    os.environ.update(token)       # this process and its children connect with the cluster's token
    try:
        _start("--head", "--port", str(port), "--node-ip-address", "127.0.0.1", "--num-cpus", str(cpus),
               "--num-gpus", "0", "--include-dashboard", "false", "--temp-dir", folder, env=env)
        for _ in range(workers):
            _start("--address", address, "--node-ip-address", "127.0.0.1", "--num-cpus", str(cpus), "--num-gpus",
                   "0", env=env)
        yield address
    finally:
        subprocess.run([_ray(), "stop", "--force"], capture_output=True, timeout=120, env=env)
        shutil.rmtree(folder, ignore_errors=True)
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
