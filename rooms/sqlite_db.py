"""One SQLite connection, used from one worker thread so the event loop never blocks on disk."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

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


class SqliteDatabase:
    """Runs each unit of work as one transaction on a single dedicated thread.

    Every call is a whole transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``), so a
    read that decides a write cannot interleave with another coroutine's work.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hearth-sqlite")
        self._conn: sqlite3.Connection | None = None

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
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, self._transaction, fn)
        except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
            if isinstance(exc, sqlite3.IntegrityError):
                raise
            raise Unavailable("The database is unavailable; retry later.") from exc

    async def checkpoint(self) -> None:
        """Copy the WAL into the database and truncate it, so deleted rows leave no copy in the WAL."""

        def run(conn: sqlite3.Connection) -> None:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._raw, run)
        except sqlite3.DatabaseError as exc:
            raise Unavailable("The database is unavailable; retry later.") from exc

    async def aclose(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None

            def close() -> None:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.close()

            await asyncio.get_running_loop().run_in_executor(self._executor, close)
        self._executor.shutdown(wait=True)
