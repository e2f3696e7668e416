"""Where the job store keeps its rows: a SQLite file in the studio home (the default), or a PostgreSQL
server when ``jobs.database_url`` is set, so that workers on several hosts share one store.

Both take the same SQL (``?`` placeholders) and the same ordered migrations; a migration's ``REAL``
columns are PostgreSQL's ``DOUBLE PRECISION`` (SQLite's REAL already is a double).

    db = open_database(Path("~/.animstudio/jobs"), None)      # SQLite: <folder>/jobs.sqlite
    db = open_database(folder, "postgresql://studio:pw@db:5432/studio")
    with db.transaction(lock="job-1") as tx:                     # writers of job-1 go one at a time
        tx.execute("INSERT INTO jobs ...", (...))
    rows = db.query("SELECT id FROM jobs WHERE status = ?", ("running",))
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from animstudio.errors import ConfigError, MissingDependencyError, ServiceUnavailableError

Migrations = Sequence[tuple[str, str]]


class Transaction(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...


class Database(Protocol):
    """What the job store needs of a database."""

    where: str     # for messages: the file, or the server without its password

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def transaction(self, lock: str | None = None) -> contextlib.AbstractContextManager[Transaction]: ...

    def migrate(self, migrations: Migrations) -> None: ...


def open_database(folder: Path, url: str | None) -> Database:
    """The store's database: PostgreSQL at ``url``, or the SQLite file in ``folder``."""
    if url:
        if not re.match(r"^postgres(ql)?://", url):
            raise ConfigError(f"jobs.database_url must be a postgresql:// URL, not {_hidden(url)!r}; leave it unset "
                              "for the SQLite file in the studio home")
        return PostgresDatabase(url)
    return SQLiteDatabase(folder / "jobs.sqlite")


def _hidden(url: str) -> str:
    """The URL to show: its host, port and database, without the user's password or the query."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    where = f"{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}"
    return f"{parts.scheme}://{user}{where}{parts.path}"


class _Statements:
    """execute/query on a cursor-like object that takes the dialect's SQL."""

    def __init__(self, run: Any, convert: Any) -> None:
        self._run, self._convert = run, convert

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._run(self._convert(sql), tuple(params))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._run(self._convert(sql), tuple(params)).fetchall()]


class SQLiteDatabase:
    """A SQLite file; a new one is built beside its final name and moved there whole, so no reader
    ever sees a file without its tables. Writers take the file's lock (BEGIN IMMEDIATE)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def _connect(self, path: Path | None = None) -> sqlite3.Connection:
        db = sqlite3.connect(path or self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA busy_timeout=30000")
        return db

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with contextlib.closing(self._connect()) as db:
            return [tuple(r) for r in db.execute(sql, tuple(params)).fetchall()]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with contextlib.closing(self._connect()) as db:
            db.execute(sql, tuple(params))

    @contextlib.contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[Transaction]:
        with contextlib.closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")     # the whole file is the lock
            try:
                yield _Statements(db.execute, lambda sql: sql)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def migrate(self, migrations: Migrations) -> None:
        if not self.path.exists():
            part = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex[:8]}.part")
            try:
                with contextlib.closing(self._connect(part)) as db:
                    db.execute("PRAGMA journal_mode=WAL")   # kept in the file: readers never wait for a writer
                    _apply(_Statements(db.execute, lambda sql: sql), migrations, "REAL", begin=db.execute)
                with contextlib.suppress(FileExistsError):   # a store made at the same time elsewhere wins
                    os.link(part, self.path)
            finally:
                part.unlink(missing_ok=True)
        with contextlib.closing(self._connect()) as db:
            _apply(_Statements(db.execute, lambda sql: sql), migrations, "REAL", begin=db.execute)


class PostgresDatabase:
    """A PostgreSQL server, one connection per thread (kept open, made again after the server was
    restarted). Writers of one job take a transaction-scoped advisory lock on its id."""

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise MissingDependencyError("a PostgreSQL job store needs psycopg: pip install 'animstudio[scale]'") \
                from exc
        self._psycopg = psycopg
        self.url = url
        self.where = _hidden(url)
        self._local = threading.local()

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is not None and conn.closed:
            conn = None
        if conn is None:
            try:
                conn = self._psycopg.connect(self.url, autocommit=True, connect_timeout=10)
            except self._psycopg.OperationalError as exc:
                raise self._unreachable(exc) from None
            self._local.conn = conn
        return conn

    def _unreachable(self, exc: Exception) -> ServiceUnavailableError:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return ServiceUnavailableError(f"the job database {self.where} cannot be reached ({first}); start it, or "
                                       "unset jobs.database_url for the SQLite store")

    def _drop(self, conn: Any) -> None:
        with contextlib.suppress(Exception):
            conn.close()
        self._local.conn = None

    @staticmethod
    def _convert(sql: str) -> str:
        return sql.replace("?", "%s")

    def _retrying(self, work: Any) -> Any:
        """Run ``work(connection)``; a connection the server dropped is made again once."""
        for attempt in (1, 2):
            conn = self._connection()
            try:
                return work(conn)
            except self._psycopg.OperationalError as exc:
                self._drop(conn)
                if attempt == 2:
                    raise self._unreachable(exc) from None
                time.sleep(0.2)
        raise AssertionError("unreachable")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._retrying(lambda conn: [tuple(r) for r in conn.execute(self._convert(sql), tuple(params))
                                            .fetchall()])

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._retrying(lambda conn: conn.execute(self._convert(sql), tuple(params)))

    @contextlib.contextmanager
    def transaction(self, lock: str | None = None) -> Iterator[Transaction]:
        conn = self._retrying(_alive)      # a connection the server dropped is made again first
        try:
            with conn.transaction():
                if lock is not None:
                    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (lock,))
                yield _Statements(conn.execute, self._convert)
        except self._psycopg.OperationalError as exc:
            self._drop(conn)
            raise self._unreachable(exc) from None

    def migrate(self, migrations: Migrations) -> None:
        with self.transaction(lock="animstudio-migrations") as tx:   # two processes starting at once
            _apply(tx, migrations, "DOUBLE PRECISION")


def _alive(conn: Any) -> Any:
    conn.execute("SELECT 1")
    return conn


def _apply(tx: Transaction, migrations: Migrations, real: str, begin: Any = None) -> None:
    """Each migration not yet recorded, in order, statement by statement."""
    if begin is not None:    # SQLite: the file's lock for the whole of it
        tx.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied REAL NOT NULL)")
        begin("BEGIN IMMEDIATE")
    else:
        tx.execute(f"CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied {real} NOT NULL)")
    try:
        done = {r[0] for r in tx.query("SELECT name FROM migrations")}
        for name, sql in migrations:
            if name in done:
                continue
            for statement in filter(str.strip, sql.split(";")):
                tx.execute(re.sub(r"\bREAL\b", real, statement))
            tx.execute("INSERT INTO migrations VALUES (?, ?)", (name, time.time()))
    except BaseException:
        if begin is not None:
            begin("ROLLBACK")
        raise
    if begin is not None:
        begin("COMMIT")
