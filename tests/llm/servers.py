"""Real servers for the LLM tests: the responder and gateways come from :mod:`animstudio.testing.servers`
(benchmarks use them too); a redis-server that tests may kill, freeze and restart is here."""

from __future__ import annotations

import shutil
import subprocess
import time

from animstudio.testing.servers import RESPONDER, free_port, running_gateway, running_responder

__all__ = ["REDIS_SERVER", "RESPONDER", "RedisServer", "free_port", "running_gateway", "running_responder"]
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer:
    """A real redis-server on a loopback port, which tests may kill, freeze and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2, socket_timeout=0.5)
        deadline = time.monotonic() + 10
        try:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server exited: {self.proc.stderr.read().decode()[-800:]}")
                try:
                    if client.ping():
                        return
                except (redis.exceptions.RedisError, OSError):
                    if time.monotonic() > deadline:
                        self.kill()
                        raise RuntimeError("redis-server did not answer PING within 10 s") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def client(self):
        import redis

        return redis.Redis.from_url(self.url, socket_connect_timeout=0.5, socket_timeout=1)
