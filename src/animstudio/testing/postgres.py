"""A throwaway PostgreSQL server for tests and benchmarks: Debian's ``postgresql`` package, a new
cluster in a temporary folder, listening on a free loopback port, stopped and removed after.

    with postgres_server() as server:
        url = server.new_database()           # postgresql://studio@127.0.0.1:PORT/t_1a2b3c
        JobStore(root, database_url=url)

PostgreSQL refuses to run as root: as root, the cluster is made and run as the ``postgres`` user that
the package creates.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from animstudio.testing.servers import free_port

INSTALL = "sudo apt-get install -y postgresql (make test does)"


def server_binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian keeps them out of PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    def __init__(self, port: int, user: str = "studio") -> None:
        self.port, self.user = port, user

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def new_database(self) -> str:
        """A new empty database on the server; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    import psycopg

    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError(f"no PostgreSQL server is installed: {INSTALL}")
    as_root = os.geteuid() == 0
    user = {"user": "postgres", "group": "postgres", "extra_groups": []} if as_root else {}
    folder = Path(tempfile.mkdtemp(prefix="animstudio-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    if as_root:
        shutil.chown(folder, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    proc = None
    try:
        subprocess.run([str(binaries / "initdb"), "-D", str(data), "-U", "studio", "--auth=trust", "-E", "UTF8",
                        "--no-sync"], check=True, capture_output=True, cwd=folder, **user)
        with open(folder / "server.log", "wb") as log:     # the server keeps its own copy of the handle
            proc = subprocess.Popen([str(binaries / "postgres"), "-D", str(data), "-p", str(port),
                                     "-k", str(sockets), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                                     "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
                                    stdout=log, stderr=subprocess.STDOUT, cwd=folder, **user)
        server = PostgresServer(port)
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {(folder / 'server.log').read_text(errors='replace')[-800:]}")
            try:
                psycopg.connect(server.url, connect_timeout=1).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError("postgres did not accept connections within 30 s") from None
                time.sleep(0.1)
        yield server
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)      # a fast shutdown: clients still connected are let go
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(15)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
