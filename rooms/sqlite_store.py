"""The embedded rooms store: SQLite in HEARTH_DATA_DIR."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from rooms.errors import Conflict
from rooms.models import Admission, MemberRecord, Role, Room, RoomKey, SealedMessage, Unattended
from rooms.sqlite_db import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, topic TEXT NOT NULL, message_ttl_s INTEGER NOT NULL,
    slow_mode_s INTEGER NOT NULL, locked INTEGER NOT NULL, capacity INTEGER, created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    room TEXT NOT NULL, id TEXT NOT NULL, ts INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    epoch INTEGER NOT NULL, blob BLOB NOT NULL, PRIMARY KEY (room, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_by_time ON messages (room, ts, id);
CREATE INDEX IF NOT EXISTS messages_by_expiry ON messages (expires_at);
CREATE TABLE IF NOT EXISTS room_keys (
    room TEXT NOT NULL, epoch INTEGER NOT NULL, wrapped BLOB NOT NULL, destroy_after INTEGER NOT NULL,
    PRIMARY KEY (room, epoch)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS members (
    room TEXT NOT NULL, member_id TEXT NOT NULL, role INTEGER NOT NULL, staff_name TEXT,
    PRIMARY KEY (room, member_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS slow_mode (
    room TEXT NOT NULL, member_id TEXT NOT NULL, next_ms INTEGER NOT NULL, PRIMARY KEY (room, member_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS reactions (
    room TEXT NOT NULL, message_id TEXT NOT NULL, kind TEXT NOT NULL, tag TEXT NOT NULL,
    expires_at INTEGER NOT NULL, PRIMARY KEY (room, message_id, kind, tag)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reactions_by_expiry ON reactions (expires_at);
CREATE TABLE IF NOT EXISTS sent (
    room TEXT NOT NULL, dedupe TEXT NOT NULL, message_id TEXT NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (room, dedupe)
) WITHOUT ROWID;
"""

# Version 1.1 room columns, added to databases created before them (name, SQL definition).
_ROOM_COLUMNS_1_1 = (
    ("guidelines", "TEXT NOT NULL DEFAULT ''"),
    ("guidelines_version", "INTEGER NOT NULL DEFAULT 0"),
    ("min_identity_age_s", "INTEGER NOT NULL DEFAULT 0"),
    ("admission", "TEXT NOT NULL DEFAULT 'open'"),
    ("unattended", "TEXT NOT NULL DEFAULT 'open'"),
)
_ROOM_FIELDS = (
    "id",
    "name",
    "topic",
    "message_ttl_s",
    "slow_mode_s",
    "locked",
    "capacity",
    "created_at",
    "guidelines",
    "guidelines_version",
    "min_identity_age_s",
    "admission",
    "unattended",
)
_ROOM_COLS = ", ".join(_ROOM_FIELDS)


def _room_values(room: Room) -> tuple[object, ...]:
    """A room's column values, in _ROOM_FIELDS order."""
    return (
        room.id,
        room.name,
        room.topic,
        room.message_ttl_s,
        room.slow_mode_s,
        int(room.locked),
        room.capacity,
        room.created_at,
        room.guidelines,
        room.guidelines_version,
        room.min_identity_age_s,
        room.admission.value,
        room.unattended.value,
    )


_MSG_COLS = "room, id, ts, expires_at, epoch, blob"
_MSG_INSERT = f"INSERT INTO messages ({_MSG_COLS}) VALUES"


def _room(row: tuple[Any, ...]) -> Room:
    id_, name, topic, ttl, slow, locked, capacity, created, guidelines, version, min_age, admission, unattended = row
    return Room(
        id=str(id_),
        name=str(name),
        topic=str(topic),
        message_ttl_s=int(ttl),
        slow_mode_s=int(slow),
        locked=bool(locked),
        created_at=int(created),
        capacity=None if capacity is None else int(capacity),
        guidelines=str(guidelines),
        guidelines_version=int(version),
        min_identity_age_s=int(min_age),
        admission=Admission(admission),
        unattended=Unattended(unattended),
    )


def _add_missing_room_columns(c: sqlite3.Connection) -> None:
    have = {row[1] for row in c.execute("PRAGMA table_info(rooms)").fetchall()}
    for name, definition in _ROOM_COLUMNS_1_1:
        if name not in have:
            c.execute(f"ALTER TABLE rooms ADD COLUMN {name} {definition}")


def _msg(row: tuple[Any, ...]) -> SealedMessage:
    room, id_, ts, exp, epoch, blob = row
    return SealedMessage(
        room=str(room),
        id=str(id_),
        ts=int(ts),
        expires_at=int(exp),
        epoch=int(epoch),
        blob=bytes(blob),
    )


class SqliteRoomStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def open(self) -> None:
        await self.db.ensure_schema(SCHEMA)
        await self.db.run(_add_missing_room_columns)

    async def ping(self) -> None:
        await self.db.run(
            lambda c: c.execute("INSERT OR REPLACE INTO meta (name, value) VALUES ('healthz', ?)", (b"ok",))
        )

    async def create_room(self, room: Room) -> None:
        def op(c: sqlite3.Connection) -> None:
            try:
                c.execute(
                    f"INSERT INTO rooms ({_ROOM_COLS}) VALUES ({', '.join('?' * len(_ROOM_FIELDS))})",  # noqa: S608
                    _room_values(room),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"A room with id {room.id!r} already exists.") from None

        await self.db.run(op)

    async def get_room(self, room_id: str) -> Room | None:
        row = await self.db.run(
            lambda c: c.execute(f"SELECT {_ROOM_COLS} FROM rooms WHERE id=?", (room_id,)).fetchone()  # noqa: S608
        )
        return None if row is None else _room(row)

    async def list_rooms(self) -> list[Room]:
        rows = await self.db.run(
            lambda c: c.execute(f"SELECT {_ROOM_COLS} FROM rooms ORDER BY created_at, id").fetchall()  # noqa: S608
        )
        return [_room(r) for r in rows]

    async def update_room(self, room: Room) -> None:
        settable = [f for f in _ROOM_FIELDS if f not in ("id", "created_at")]
        values = dict(zip(_ROOM_FIELDS, _room_values(room), strict=True))
        await self.db.run(
            lambda c: c.execute(
                f"UPDATE rooms SET {', '.join(f + '=?' for f in settable)} WHERE id=?",  # noqa: S608
                (*(values[f] for f in settable), room.id),
            )
        )

    async def delete_room(self, room_id: str) -> bool:
        def op(c: sqlite3.Connection) -> bool:
            for table in ("messages", "reactions", "room_keys", "members", "slow_mode", "sent"):
                c.execute(f"DELETE FROM {table} WHERE room=?", (room_id,))  # noqa: S608
            return c.execute("DELETE FROM rooms WHERE id=?", (room_id,)).rowcount > 0

        deleted = await self.db.run(op)
        await self.db.checkpoint()  # the room's keys must not outlive it in the WAL
        return deleted

    async def add_message(self, msg: SealedMessage, *, dedupe: str | None = None) -> str | None:
        # Grouped with the other messages of this loop turn into one transaction (SqliteDatabase):
        # a plain message as a row of one multi-row INSERT, a deduplicated one as a unit of work.
        row = (msg.room, msg.id, msg.ts, msg.expires_at, msg.epoch, msg.blob)
        if dedupe is None:
            await self.db.insert(_MSG_INSERT, row)
            return None

        def op(c: sqlite3.Connection) -> str | None:
            earlier = c.execute(
                "SELECT message_id FROM sent WHERE room=? AND dedupe=? AND expires_at>?", (msg.room, dedupe, msg.ts)
            ).fetchone()
            if earlier is not None:
                return str(earlier[0])
            c.execute(
                "INSERT OR REPLACE INTO sent (room, dedupe, message_id, expires_at) VALUES (?,?,?,?)",
                (msg.room, dedupe, msg.id, msg.expires_at),
            )
            c.execute(f"{_MSG_INSERT} (?,?,?,?,?,?)", row)
            return None

        return await self.db.run_grouped(op)

    async def find_sent(self, room_id: str, dedupe: str, *, now_ms: int) -> str | None:
        # On every send with a client id: grouped with the other sends of this loop turn.
        row = await self.db.run_grouped(
            lambda c: c.execute(
                "SELECT message_id FROM sent WHERE room=? AND dedupe=? AND expires_at>?", (room_id, dedupe, now_ms)
            ).fetchone()
        )
        return None if row is None else str(row[0])

    async def history(self, room_id: str, *, now_ms: int, limit: int) -> list[SealedMessage]:
        rows = await self.db.run(
            lambda c: c.execute(
                f"SELECT {_MSG_COLS} FROM messages WHERE room=? AND expires_at>? "  # noqa: S608
                "ORDER BY ts DESC, id DESC LIMIT ?",
                (room_id, now_ms, limit),
            ).fetchall()
        )
        return [_msg(r) for r in reversed(rows)]

    async def get_message(self, room_id: str, message_id: str, *, now_ms: int) -> SealedMessage | None:
        row = await self.db.run(
            lambda c: c.execute(
                f"SELECT {_MSG_COLS} FROM messages WHERE room=? AND id=? AND expires_at>?",  # noqa: S608
                (room_id, message_id, now_ms),
            ).fetchone()
        )
        return None if row is None else _msg(row)

    async def messages_before(
        self, room_id: str, message: SealedMessage, *, now_ms: int, limit: int
    ) -> list[SealedMessage]:
        rows = await self.db.run(
            lambda c: c.execute(
                f"SELECT {_MSG_COLS} FROM messages WHERE room=? AND expires_at>? "  # noqa: S608
                "AND (ts<? OR (ts=? AND id<?)) ORDER BY ts DESC, id DESC LIMIT ?",
                (room_id, now_ms, message.ts, message.ts, message.id, limit),
            ).fetchall()
        )
        return [_msg(r) for r in reversed(rows)]

    async def delete_message(self, room_id: str, message_id: str) -> bool:
        def op(c: sqlite3.Connection) -> bool:
            c.execute("DELETE FROM reactions WHERE room=? AND message_id=?", (room_id, message_id))
            return c.execute("DELETE FROM messages WHERE room=? AND id=?", (room_id, message_id)).rowcount > 0

        return await self.db.run(op)

    async def set_reaction(
        self, room_id: str, message_id: str, kind: str, tag: str, *, on: bool, expires_at: int
    ) -> None:
        if on:
            sql = "INSERT OR IGNORE INTO reactions (room, message_id, kind, tag, expires_at) VALUES (?,?,?,?,?)"
            args: tuple[Any, ...] = (room_id, message_id, kind, tag, expires_at)
        else:
            sql = "DELETE FROM reactions WHERE room=? AND message_id=? AND kind=? AND tag=?"
            args = (room_id, message_id, kind, tag)
        await self.db.run(lambda c: c.execute(sql, args))

    async def reactions(self, room_id: str, message_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        if not message_ids:
            return {}

        def op(c: sqlite3.Connection) -> list[Any]:
            rows: list[Any] = []
            ids = list(message_ids)
            for i in range(0, len(ids), 500):
                batch = ids[i : i + 500]
                marks = ",".join("?" * len(batch))
                rows += c.execute(
                    f"SELECT message_id, kind, tag FROM reactions WHERE room=? AND message_id IN ({marks})",  # noqa: S608
                    (room_id, *batch),
                ).fetchall()
            return rows

        found: dict[str, list[tuple[str, str]]] = {}
        for message_id, kind, tag in await self.db.run(op):
            found.setdefault(str(message_id), []).append((str(kind), str(tag)))
        return found

    async def get_key(self, room_id: str, epoch: int) -> RoomKey | None:
        row = await self.db.run(
            lambda c: c.execute(
                "SELECT wrapped, destroy_after FROM room_keys WHERE room=? AND epoch=?", (room_id, epoch)
            ).fetchone()
        )
        return None if row is None else RoomKey(room_id, epoch, bytes(row[0]), int(row[1]))

    async def put_key(self, key: RoomKey) -> RoomKey:
        def op(c: sqlite3.Connection) -> RoomKey:
            c.execute(
                "INSERT OR IGNORE INTO room_keys (room, epoch, wrapped, destroy_after) VALUES (?,?,?,?)",
                (key.room, key.epoch, key.wrapped, key.destroy_after),
            )
            row = c.execute(
                "SELECT wrapped, destroy_after FROM room_keys WHERE room=? AND epoch=?", (key.room, key.epoch)
            ).fetchone()
            return RoomKey(key.room, key.epoch, bytes(row[0]), int(row[1]))

        return await self.db.run(op)

    async def extend_key(self, room_id: str, epoch: int, destroy_after: int) -> bool:
        return await self.db.run(
            lambda c: (
                c.execute(
                    "UPDATE room_keys SET destroy_after=MAX(destroy_after, ?) WHERE room=? AND epoch=?",
                    (destroy_after, room_id, epoch),
                ).rowcount
                > 0
            )
        )

    async def all_keys(self) -> list[RoomKey]:
        rows = await self.db.run(
            lambda c: c.execute("SELECT room, epoch, wrapped, destroy_after FROM room_keys").fetchall()
        )
        return [RoomKey(str(r[0]), int(r[1]), bytes(r[2]), int(r[3])) for r in rows]

    async def replace_wrapped(self, room_id: str, epoch: int, wrapped: bytes) -> None:
        await self.db.run(
            lambda c: c.execute("UPDATE room_keys SET wrapped=? WHERE room=? AND epoch=?", (wrapped, room_id, epoch))
        )

    async def purge(self, *, now_ms: int) -> tuple[int, int]:
        def op(c: sqlite3.Connection) -> tuple[int, int]:
            messages = c.execute("DELETE FROM messages WHERE expires_at<=?", (now_ms,)).rowcount
            c.execute("DELETE FROM reactions WHERE expires_at<=?", (now_ms,))
            keys = c.execute("DELETE FROM room_keys WHERE destroy_after<=?", (now_ms,)).rowcount
            c.execute("DELETE FROM slow_mode WHERE next_ms<=?", (now_ms,))
            c.execute("DELETE FROM sent WHERE expires_at<=?", (now_ms,))
            return messages, keys

        counts = await self.db.run(op)
        if any(counts):
            # secure_delete zeroes the freed cells, but older copies of the pages sit in the WAL.
            await self.db.checkpoint()
        return counts

    async def record_member(self, record: MemberRecord) -> None:
        await self.db.run(
            lambda c: c.execute(
                "INSERT INTO members (room, member_id, role, staff_name) VALUES (?,?,?,?) "
                "ON CONFLICT (room, member_id) DO UPDATE SET role=excluded.role, staff_name=excluded.staff_name",
                (record.room_id, record.member_id, int(record.role), record.staff_name),
            )
        )

    async def get_member(self, room_id: str, member_id: str) -> MemberRecord | None:
        row = await self.db.run(
            lambda c: c.execute(
                "SELECT role, staff_name FROM members WHERE room=? AND member_id=?", (room_id, member_id)
            ).fetchone()
        )
        return None if row is None else MemberRecord(room_id, member_id, Role(int(row[0])), row[1])

    async def take_slow_mode(self, room_id: str, member_id: str, *, now_ms: int, window_ms: int) -> int:
        def op(c: sqlite3.Connection) -> int:
            row = c.execute(
                "SELECT next_ms FROM slow_mode WHERE room=? AND member_id=?", (room_id, member_id)
            ).fetchone()
            if row is not None and int(row[0]) > now_ms:
                return int(row[0]) - now_ms
            c.execute(
                "INSERT OR REPLACE INTO slow_mode (room, member_id, next_ms) VALUES (?,?,?)",
                (room_id, member_id, now_ms + window_ms),
            )
            return 0

        return await self.db.run(op)

    async def get_meta(self, name: str) -> bytes | None:
        row = await self.db.run(lambda c: c.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone())
        return None if row is None else bytes(row[0])

    async def put_meta_if_absent(self, name: str, value: bytes) -> bytes:
        def op(c: sqlite3.Connection) -> bytes:
            c.execute("INSERT OR IGNORE INTO meta (name, value) VALUES (?,?)", (name, value))
            return bytes(c.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()[0])

        return await self.db.run(op)

    async def set_meta(self, name: str, value: bytes) -> None:
        await self.db.run(lambda c: c.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?,?)", (name, value)))
