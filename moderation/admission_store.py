"""Who has been admitted to a room with ``admission: "approval"`` (precise rule 24): SQLite and Redis."""

from __future__ import annotations

from typing import Protocol

import redis.asyncio as aioredis

from rooms.redis_common import guarded, key
from rooms.sqlite_db import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS admissions (
    room TEXT NOT NULL, member_id TEXT NOT NULL, admitted_at INTEGER NOT NULL, PRIMARY KEY (room, member_id)
) WITHOUT ROWID;
"""


class AdmissionStore(Protocol):
    """Admission is remembered for a member until they are removed from the room (or it is deleted)."""

    async def admit(self, room_id: str, member_id: str, *, now_ms: int) -> None: ...
    async def is_admitted(self, room_id: str, member_id: str) -> bool: ...
    async def revoke(self, room_id: str, member_id: str) -> bool: ...
    async def drop_room(self, room_id: str) -> None: ...


class SqliteAdmissionStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def open(self) -> None:
        await self.db.ensure_schema(SCHEMA)

    async def admit(self, room_id: str, member_id: str, *, now_ms: int) -> None:
        await self.db.run(
            lambda c: c.execute(
                "INSERT OR IGNORE INTO admissions (room, member_id, admitted_at) VALUES (?,?,?)",
                (room_id, member_id, now_ms),
            )
        )

    async def is_admitted(self, room_id: str, member_id: str) -> bool:
        row = await self.db.run(
            lambda c: c.execute(
                "SELECT 1 FROM admissions WHERE room=? AND member_id=?", (room_id, member_id)
            ).fetchone()
        )
        return row is not None

    async def revoke(self, room_id: str, member_id: str) -> bool:
        return await self.db.run(
            lambda c: (
                c.execute("DELETE FROM admissions WHERE room=? AND member_id=?", (room_id, member_id)).rowcount > 0
            )
        )

    async def drop_room(self, room_id: str) -> None:
        await self.db.run(lambda c: c.execute("DELETE FROM admissions WHERE room=?", (room_id,)))


class RedisAdmissionStore:
    def __init__(self, client: aioredis.Redis) -> None:
        self.r = client

    @staticmethod
    def _key(room_id: str) -> str:
        return key("room", room_id, "admitted")

    @guarded
    async def admit(self, room_id: str, member_id: str, *, now_ms: int) -> None:
        await self.r.sadd(self._key(room_id), member_id)

    @guarded
    async def is_admitted(self, room_id: str, member_id: str) -> bool:
        return bool(await self.r.sismember(self._key(room_id), member_id))

    @guarded
    async def revoke(self, room_id: str, member_id: str) -> bool:
        return bool(await self.r.srem(self._key(room_id), member_id))

    @guarded
    async def drop_room(self, room_id: str) -> None:
        await self.r.delete(self._key(room_id))
