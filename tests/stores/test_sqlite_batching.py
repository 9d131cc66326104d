"""SQLite's grouped inserts: rows queued in one loop turn share a statement, yet each row
keeps its own outcome and jobs keep the order they were asked for."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rooms.sqlite_db import SqliteDatabase

HEAD = "INSERT INTO t (k, v) VALUES"


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase(tmp_path / "batch.db")
    await database.open()
    await database.ensure_schema("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);")
    yield database
    await database.aclose()


async def _rows(db: SqliteDatabase) -> list[tuple[int, str]]:
    return await db.run(lambda c: c.execute("SELECT k, v FROM t ORDER BY k").fetchall())


async def test_many_rows_in_one_turn_are_all_written(db: SqliteDatabase) -> None:
    # More rows than one statement may bind (999 parameters): several statements, one transaction.
    await asyncio.gather(*(db.insert(HEAD, (k, f"v{k}")) for k in range(1200)))
    rows = await _rows(db)
    assert len(rows) == 1200 and rows[0] == (0, "v0") and rows[-1] == (1199, "v1199")


async def test_a_row_that_breaks_a_constraint_fails_alone(db: SqliteDatabase) -> None:
    await db.insert(HEAD, (7, "first"))
    results = await asyncio.gather(
        db.insert(HEAD, (1, "a")), db.insert(HEAD, (7, "again")), db.insert(HEAD, (2, "b")), return_exceptions=True
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], sqlite3.IntegrityError)
    assert await _rows(db) == [(1, "a"), (2, "b"), (7, "first")]


async def test_a_job_asked_for_after_an_insert_sees_the_row(db: SqliteDatabase) -> None:
    written = asyncio.ensure_future(db.insert(HEAD, (5, "five")))
    await asyncio.sleep(0)  # the insert is queued, not yet sent to the worker
    seen = await _rows(db)
    await written
    assert seen == [(5, "five")]


async def test_rows_queued_at_close_are_written(tmp_path: Path) -> None:
    database = SqliteDatabase(tmp_path / "close.db")
    await database.open()
    await database.ensure_schema("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);")
    pending = asyncio.ensure_future(database.insert(HEAD, (1, "last")))
    await asyncio.sleep(0)
    await database.aclose()
    await pending
    again = SqliteDatabase(tmp_path / "close.db")
    await again.open()
    try:
        assert await _rows(again) == [(1, "last")]
    finally:
        await again.aclose()


async def test_grouped_units_share_a_transaction_and_fail_alone(db: SqliteDatabase) -> None:
    def add(k: int) -> int:
        def op(c: sqlite3.Connection) -> int:
            c.execute("INSERT INTO t (k, v) VALUES (?, ?)", (k, "unit"))
            c.execute("INSERT INTO t (k, v) VALUES (?, ?)", (k + 100, "unit"))
            return k

        return op

    def broken(c: sqlite3.Connection) -> int:
        c.execute("INSERT INTO t (k, v) VALUES (50, 'half')")  # undone with the unit
        raise LookupError("a unit that fails")

    results = await asyncio.gather(
        db.run_grouped(add(1)),
        db.insert(HEAD, (2, "row")),
        db.run_grouped(broken),
        db.run_grouped(add(1)),  # its first insert breaks the key: the whole unit is undone
        db.run_grouped(add(3)),
        return_exceptions=True,
    )
    assert results[0] == 1 and results[1] is None and results[4] == 3
    assert isinstance(results[2], LookupError)
    assert isinstance(results[3], sqlite3.IntegrityError)
    assert await _rows(db) == [(1, "unit"), (2, "row"), (3, "unit"), (101, "unit"), (103, "unit")]
