"""One SQLite connection, used from one worker thread so the event loop never blocks on disk."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from rooms.errors import Unavailable

T = TypeVar("T")

# Rows per multi-row INSERT: SQLite allows 999 bound parameters in every build since 3.7.
_MAX_PARAMS = 999

_Row = tuple[object, ...]
_Pending = tuple[str, _Row, "asyncio.Future[None]"]


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

    Plain inserts (``insert``) are grouped: the rows queued while the worker is busy, or
    within one turn of the event loop, go to the worker as one job and are written by one
    multi-row ``INSERT`` (one transaction). A message then costs one row in a shared
    statement instead of a transaction and a thread hop of its own; and the worker, which
    needs the GIL back after every SQLite call, needs it a few times per batch rather than
    a few times per message. Jobs still run in the order they were asked for.
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
        self.path.parent.mkdir(parents=True, exist_ok=True)
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
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._pending.append((head, row, fut))
        if not self._flush_scheduled and not self._batch_in_flight:
            self._flush_scheduled = True
            loop.call_soon(self._submit_pending)
        await fut

    def _submit_pending(self) -> None:
        self._flush_scheduled = False
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        self._batch_in_flight = True
        job = asyncio.get_running_loop().run_in_executor(
            self._executor, self._write_rows, [(h, r) for h, r, _ in batch]
        )

        def done(job: asyncio.Future[list[sqlite3.Error | None]]) -> None:
            self._batch_in_flight = False
            exc = job.exception()
            results = [exc] * len(batch) if exc is not None else job.result()
            for (_, _, fut), err in zip(batch, results, strict=True):
                if fut.done():  # the caller was cancelled; the row is written all the same
                    continue
                if err is None:
                    fut.set_result(None)
                else:
                    fut.set_exception(_unavailable(err) if isinstance(err, sqlite3.Error) else err)
            if self._pending and not self._flush_scheduled:  # rows that came in meanwhile
                self._submit_pending()

        job.add_done_callback(done)

    def _write_rows(self, batch: list[tuple[str, _Row]]) -> list[sqlite3.Error | None]:
        """On the worker: every row in as few statements as possible, all in one transaction."""
        conn = self._conn
        assert conn is not None, "SqliteDatabase.open() was not awaited"
        groups: dict[tuple[str, int], list[_Row]] = {}
        for head, row in batch:
            groups.setdefault((head, len(row)), []).append(row)
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
                self._transaction(lambda c: [c.execute(sql, params) for sql, params in statements])
            return [None] * len(batch)
        except sqlite3.IntegrityError:
            pass  # some row broke a constraint: write them one by one so only that row fails
        except sqlite3.Error as exc:
            return [exc] * len(batch)
        results: list[sqlite3.Error | None] = []
        for head, row in batch:
            try:
                conn.execute(f"{head} ({','.join('?' * len(row))})", row)
                results.append(None)
            except sqlite3.Error as exc:
                results.append(exc)
        return results

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
