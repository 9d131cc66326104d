"""The embedded safety store: guideline acceptances in SQLite."""

from __future__ import annotations

import sqlite3

from rooms.sqlite_db import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS guideline_acceptances (
    room TEXT NOT NULL, member_id TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (room, member_id)
) WITHOUT ROWID;
"""


class SqliteSafetyStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def open(self) -> None:
        await self.db.ensure_schema(SCHEMA)

    async def accept_guidelines(self, room_id: str, member_id: str, version: int) -> None:
        await self.db.run(
            lambda c: c.execute(
                "INSERT INTO guideline_acceptances (room, member_id, version) VALUES (?,?,?) "
                "ON CONFLICT (room, member_id) DO UPDATE SET version=excluded.version",
                (room_id, member_id, version),
            )
        )

    async def accepted_guidelines(self, room_id: str, member_id: str) -> int:
        row = await self.db.run(
            lambda c: c.execute(
                "SELECT version FROM guideline_acceptances WHERE room=? AND member_id=?", (room_id, member_id)
            ).fetchone()
        )
        return 0 if row is None else int(row[0])

    async def delete_room(self, room_id: str) -> None:
        def op(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM guideline_acceptances WHERE room=?", (room_id,))

        await self.db.run(op)
