"""One SQLite connection, used from one worker thread so the event loop never blocks on disk."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from rooms.errors import Unavailable

T = TypeVar("T")
log = logging.getLogger(__name__)
SIDE_FILES = ("-wal", "-shm", "-journal")


def private_dir(path: Path) -> None:
    """Make ``path`` (and its parents) if missing; Hearth's data directory is 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        log.warning("event=data_dir_permissions fixed=0700")
        path.chmod(0o700)


def private_file(path: Path) -> None:
    """Create ``path`` 0600 if missing, or take group and other access away from it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)


# Rows per multi-row INSERT: SQLite allows 999 bound parameters in every build since 3.7.
_MAX_PARAMS = 999

_Row = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class _Item:
    """One unit of grouped work: a plain row (``head`` and ``row``) or a function."""

    head: str
    row: _Row
    fn: Callable[[sqlite3.Connection], Any] | None


_Pending = tuple[_Item, "asyncio.Future[Any]"]


def _unavailable(exc: sqlite3.Error) -> Exception:
    """Disk and lock errors become Unavailable; a broken constraint stays what it is."""
    if isinstance(exc, sqlite3.IntegrityError) or not isinstance(exc, sqlite3.DatabaseError):
        return exc
    err = Unavailable("The database is unavailable; retry later.")
    err.__cause__ = exc
    return err


class SqliteDatabase:
    """Runs each unit of work as one transaction on a single dedicated thread.

    Every call is a whole transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``), so a
    read that decides a write cannot interleave with another coroutine's work.

    Writes on the message path are grouped (``insert``, ``run_grouped``): what is queued
    while the worker is busy, or within one turn of the event loop, goes to the worker as
    one job and one transaction; plain rows are written by one multi-row ``INSERT``. A
    message then costs a share of a transaction and of a thread hop instead of one of each;
    and the worker, which needs the GIL back after every SQLite call, needs it far fewer
    times per message. Jobs still run in the order they were asked for.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._pending: list[_Pending] = []
        self._flush_scheduled = False
        self._batch_in_flight = False

    async def open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._connect)

    def _connect(self) -> None:
        # 0600 files in a 0700 directory; SQLite gives its WAL and shared-memory files the
        # database file's permissions, and files left by an older version are tightened here.
        private_dir(self.path.parent)
        private_file(self.path)
        for suffix in SIDE_FILES:
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                private_file(side)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA secure_delete=ON")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=5000")
        self._conn = conn

    async def ensure_schema(self, script: str) -> None:
        def apply(conn: sqlite3.Connection) -> None:
            conn.executescript(script)

        await asyncio.get_running_loop().run_in_executor(self._executor, self._raw, apply)

    def _raw(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        assert self._conn is not None, "SqliteDatabase.open() was not awaited"
        return fn(self._conn)

    def _transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn
        assert conn is not None, "SqliteDatabase.open() was not awaited"
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` as one transaction; disk and lock errors become Unavailable."""
        self._submit_pending()  # rows asked for earlier are written first
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, self._transaction, fn)
        except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
            if isinstance(exc, sqlite3.IntegrityError):
                raise
            raise Unavailable("The database is unavailable; retry later.") from exc

    async def insert(self, head: str, row: _Row) -> None:
        """``head`` (``INSERT INTO t (a, b) VALUES``) with one row, written together with the
        other rows queued in this loop turn; returns once the row is committed. Raises like
        ``run``; a row that breaks a constraint fails alone."""
        await self._queue(_Item(head, row, None))

    async def run_grouped(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Like ``run``, but shares one transaction with the other work queued in this loop
        turn (each unit inside its own savepoint, so a unit that raises is undone alone)."""
        result: T = await self._queue(_Item("", (), fn))
        return result

    async def _queue(self, item: _Item) -> Any:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._pending.append((item, fut))
        if not self._flush_scheduled and not self._batch_in_flight:
            self._flush_scheduled = True
            loop.call_soon(self._submit_pending)
        return await fut

    def _submit_pending(self) -> None:
        self._flush_scheduled = False
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        self._batch_in_flight = True
        job = asyncio.get_running_loop().run_in_executor(self._executor, self._write_batch, [i for i, _ in batch])

        def done(job: asyncio.Future[list[tuple[bool, Any]]]) -> None:
            self._batch_in_flight = False
            exc = job.exception()
            results = [(False, exc)] * len(batch) if exc is not None else job.result()
            for (_, fut), (ok, value) in zip(batch, results, strict=True):
                if fut.done():  # the caller was cancelled; its work is done all the same
                    continue
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(_unavailable(value) if isinstance(value, sqlite3.Error) else value)
            if self._pending and not self._flush_scheduled:  # work that came in meanwhile
                self._submit_pending()

        job.add_done_callback(done)

    def _write_batch(self, batch: list[_Item]) -> list[tuple[bool, Any]]:
        """On the worker: the whole batch in one transaction; (ok, result or error) per item."""
        conn = self._conn
        assert conn is not None, "SqliteDatabase.open() was not awaited"
        if all(item.fn is None for item in batch):
            done = self._insert_rows(conn, batch)
            if done is not None:
                return done
        results: list[tuple[bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for item in batch:
                conn.execute("SAVEPOINT unit")
                try:
                    if item.fn is not None:
                        value = item.fn(conn)
                    else:
                        value = conn.execute(f"{item.head} ({','.join('?' * len(item.row))})", item.row)
                        value = None
                except Exception as exc:
                    conn.execute("ROLLBACK TO unit")
                    conn.execute("RELEASE unit")
                    results.append((False, exc))
                    continue
                conn.execute("RELEASE unit")
                results.append((True, value))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return [(False, exc)] * len(batch)
        return results

    @staticmethod
    def _insert_rows(conn: sqlite3.Connection, batch: list[_Item]) -> list[tuple[bool, Any]] | None:
        """Plain rows only: as few multi-row INSERTs as possible, in one transaction. None when
        some row broke a constraint (then they are written one by one, each in a savepoint)."""
        groups: dict[tuple[str, int], list[_Row]] = {}
        for item in batch:
            groups.setdefault((item.head, len(item.row)), []).append(item.row)
        statements: list[tuple[str, list[object]]] = []
        for (head, width), rows in groups.items():
            per = max(1, _MAX_PARAMS // width)
            one = "(" + ",".join("?" * width) + ")"
            for i in range(0, len(rows), per):
                chunk = rows[i : i + per]
                statements.append((f"{head} {','.join([one] * len(chunk))}", [v for r in chunk for v in r]))
        try:
            if len(statements) == 1:  # one statement is one transaction of its own
                conn.execute(*statements[0])
            else:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for sql, params in statements:
                        conn.execute(sql, params)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        except sqlite3.IntegrityError:
            return None
        except sqlite3.Error as exc:
            return [(False, exc)] * len(batch)
        return [(True, None)] * len(batch)

    async def checkpoint(self) -> None:
        """Copy the WAL into the database and truncate it, so deleted rows leave no copy in the WAL."""

        def run(conn: sqlite3.Connection) -> None:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._raw, run)
        except sqlite3.DatabaseError as exc:
            raise Unavailable("The database is unavailable; retry later.") from exc

    async def aclose(self) -> None:
        self._submit_pending()  # queued rows are written before the connection closes
        if self._conn is not None:
            conn = self._conn

            def close() -> None:
                self._conn = None
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.close()

            await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=True)
