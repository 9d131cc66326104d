"""The embedded moderation store: mutes, bans, flags, audit and staff in SQLite."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from moderation.models import AuditEntry, Ban, FlagStatus, Mute, Resolution, ResolutionAction, StaffAccount, StoredFlag
from rooms.errors import Conflict
from rooms.models import Role
from rooms.sqlite_db import SqliteDatabase

SCHEMA = """
CREATE TABLE IF NOT EXISTS mutes (
    room TEXT NOT NULL, member_id TEXT NOT NULL, until INTEGER, reason TEXT, PRIMARY KEY (room, member_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bans (
    room TEXT NOT NULL, member_id TEXT NOT NULL, until INTEGER, reason TEXT, PRIMARY KEY (room, member_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS flags (
    id TEXT PRIMARY KEY, room TEXT NOT NULL, message_id TEXT, author_id TEXT,
    reporter TEXT, reason TEXT NOT NULL, created_at INTEGER NOT NULL, status TEXT NOT NULL,
    resolution TEXT, snapshot BLOB, snapshot_key BLOB, purge_after INTEGER,
    UNIQUE (room, message_id, reporter)
);
CREATE INDEX IF NOT EXISTS flags_by_status ON flags (status, created_at);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    room TEXT, target TEXT, reason TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_room ON audit (room, seq);
CREATE TABLE IF NOT EXISTS staff (
    name TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE, role INTEGER NOT NULL, password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
"""

_FLAG_COLS = (
    "id, room, message_id, author_id, reporter, reason, created_at, status, resolution, snapshot, "
    "snapshot_key, purge_after"
)


# Version 1.1 flags may have no message (a help request) or no reporter (a crisis signal); a
# database made before that had NOT NULL on those columns, so its flags table is rebuilt once.
_FLAGS_V1_1 = """
ALTER TABLE flags RENAME TO flags_v1;
CREATE TABLE flags (
    id TEXT PRIMARY KEY, room TEXT NOT NULL, message_id TEXT, author_id TEXT,
    reporter TEXT, reason TEXT NOT NULL, created_at INTEGER NOT NULL, status TEXT NOT NULL,
    resolution TEXT, snapshot BLOB, snapshot_key BLOB, purge_after INTEGER,
    UNIQUE (room, message_id, reporter)
);
INSERT INTO flags SELECT * FROM flags_v1;
DROP TABLE flags_v1;
CREATE INDEX IF NOT EXISTS flags_by_status ON flags (status, created_at);
"""


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def resolution_to_json(res: Resolution | None) -> str | None:
    if res is None:
        return None
    return json.dumps({"action": str(res.action), "by": res.by, "at": res.at, "note": res.note})


def resolution_from_json(raw: object) -> Resolution | None:
    if raw is None:
        return None
    data = json.loads(str(raw))
    return Resolution(action=ResolutionAction(data["action"]), by=data["by"], at=int(data["at"]), note=data.get("note"))


def _flag(row: tuple[Any, ...]) -> StoredFlag:
    (id_, room, message_id, author_id, reporter, reason, created, status, res, snap, key, purge) = row
    return StoredFlag(
        id=str(id_),
        room=str(room),
        message_id=_optional(message_id),
        author_id=_optional(author_id),
        reporter=_optional(reporter),
        reason=str(reason),
        created_at=int(created),
        status=FlagStatus(status),
        resolution=resolution_from_json(res),
        snapshot=None if snap is None else bytes(snap),
        snapshot_key=None if key is None else bytes(key),
        purge_after=None if purge is None else int(purge),
    )


def _staff(row: tuple[Any, ...]) -> StaffAccount:
    name, id_, role, pw, created = row
    return StaffAccount(
        id=str(id_),
        name=str(name),
        role=Role(int(role)),
        password_hash=str(pw),
        created_at=int(created),
    )


class SqliteModStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def open(self) -> None:
        await self.db.ensure_schema(SCHEMA)

        def migrate(c: sqlite3.Connection) -> None:
            columns = {row[1]: row[3] for row in c.execute("PRAGMA table_info(flags)")}
            if columns.get("reporter") == 1:  # NOT NULL: made before version 1.1
                for statement in _FLAGS_V1_1.strip().split(";"):
                    if statement.strip():
                        c.execute(statement)

        await self.db.run(migrate)

    async def set_mute(self, mute: Mute) -> None:
        await self.db.run(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO mutes (room, member_id, until, reason) VALUES (?,?,?,?)",
                (mute.room, mute.member_id, mute.until, mute.reason),
            )
        )

    async def clear_mute(self, room_id: str, member_id: str) -> bool:
        return await self.db.run(
            lambda c: c.execute("DELETE FROM mutes WHERE room=? AND member_id=?", (room_id, member_id)).rowcount > 0
        )

    async def get_mute(self, room_id: str, member_id: str, *, now_ms: int) -> Mute | None:
        row = await self.db.run(
            lambda c: c.execute(
                "SELECT until, reason FROM mutes WHERE room=? AND member_id=? AND (until IS NULL OR until>?)",
                (room_id, member_id, now_ms),
            ).fetchone()
        )
        return None if row is None else Mute(room_id, member_id, row[0], row[1])

    async def set_ban(self, ban: Ban) -> None:
        await self.db.run(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO bans (room, member_id, until, reason) VALUES (?,?,?,?)",
                (ban.room, ban.member_id, ban.until, ban.reason),
            )
        )

    async def get_ban(self, room_id: str, member_id: str, *, now_ms: int) -> Ban | None:
        row = await self.db.run(
            lambda c: c.execute(
                "SELECT until, reason FROM bans WHERE room=? AND member_id=? AND (until IS NULL OR until>?)",
                (room_id, member_id, now_ms),
            ).fetchone()
        )
        return None if row is None else Ban(room_id, member_id, row[0], row[1])

    async def add_flag(self, flag: StoredFlag) -> str:
        def op(c: sqlite3.Connection) -> str:
            c.execute(
                f"INSERT OR IGNORE INTO flags ({_FLAG_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
                (
                    flag.id,
                    flag.room,
                    flag.message_id,
                    flag.author_id,
                    flag.reporter,
                    flag.reason,
                    flag.created_at,
                    flag.status,
                    resolution_to_json(flag.resolution),
                    flag.snapshot,
                    flag.snapshot_key,
                    flag.purge_after,
                ),
            )
            if flag.message_id is None or flag.reporter is None:
                return flag.id  # only a member's flag of a message is deduplicated
            row = c.execute(
                "SELECT id FROM flags WHERE room=? AND message_id=? AND reporter=?",
                (flag.room, flag.message_id, flag.reporter),
            ).fetchone()
            return str(row[0])

        return await self.db.run(op)

    async def get_flag(self, flag_id: str) -> StoredFlag | None:
        row = await self.db.run(
            lambda c: c.execute(f"SELECT {_FLAG_COLS} FROM flags WHERE id=?", (flag_id,)).fetchone()  # noqa: S608
        )
        return None if row is None else _flag(row)

    async def list_flags(self, status: FlagStatus | None, *, limit: int) -> list[StoredFlag]:
        def op(c: sqlite3.Connection) -> list[tuple[object, ...]]:
            if status is None:
                return c.execute(
                    f"SELECT {_FLAG_COLS} FROM flags ORDER BY created_at, id LIMIT ?",  # noqa: S608 - column names are constants
                    (limit,),
                ).fetchall()
            return c.execute(
                f"SELECT {_FLAG_COLS} FROM flags WHERE status=? ORDER BY created_at, id LIMIT ?",  # noqa: S608
                (status, limit),
            ).fetchall()

        return [_flag(r) for r in await self.db.run(op)]

    async def resolve_flag(self, flag_id: str, status: FlagStatus, resolution: Resolution, purge_after: int) -> bool:
        return await self.db.run(
            lambda c: (
                c.execute(
                    "UPDATE flags SET status=?, resolution=?, purge_after=? WHERE id=? AND status=?",
                    (str(status), resolution_to_json(resolution), purge_after, flag_id, str(FlagStatus.OPEN)),
                ).rowcount
                > 0
            )
        )

    async def purge_flags(self, *, now_ms: int) -> int:
        return await self.db.run(
            lambda c: (
                c.execute(
                    "UPDATE flags SET snapshot=NULL, snapshot_key=NULL "
                    "WHERE purge_after IS NOT NULL AND purge_after<=? AND snapshot_key IS NOT NULL",
                    (now_ms,),
                ).rowcount
            )
        )

    async def all_flag_keys(self) -> list[tuple[str, bytes]]:
        rows = await self.db.run(
            lambda c: c.execute("SELECT id, snapshot_key FROM flags WHERE snapshot_key IS NOT NULL").fetchall()
        )
        return [(str(r[0]), bytes(r[1])) for r in rows]

    async def replace_flag_key(self, flag_id: str, wrapped: bytes) -> None:
        await self.db.run(lambda c: c.execute("UPDATE flags SET snapshot_key=? WHERE id=?", (wrapped, flag_id)))

    async def delete_room(self, room_id: str) -> None:
        def op(c: sqlite3.Connection) -> None:
            for table in ("mutes", "bans", "flags"):
                c.execute(f"DELETE FROM {table} WHERE room=?", (room_id,))  # noqa: S608

        await self.db.run(op)

    async def append_audit(self, entry: AuditEntry) -> None:
        await self.db.run(
            lambda c: c.execute(
                "INSERT INTO audit (ts, actor, action, room, target, reason) VALUES (?,?,?,?,?,?)",
                (entry.ts, entry.actor, entry.action, entry.room, entry.target, entry.reason),
            )
        )

    async def list_audit(self, room_id: str | None, *, limit: int) -> list[AuditEntry]:
        def op(c: sqlite3.Connection) -> list[tuple[object, ...]]:
            cols = "ts, actor, action, room, target, reason"
            if room_id is None:
                return c.execute(f"SELECT {cols} FROM audit ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()  # noqa: S608
            return c.execute(
                f"SELECT {cols} FROM audit WHERE room=? ORDER BY seq DESC LIMIT ?",  # noqa: S608 - column names are constants
                (room_id, limit),
            ).fetchall()

        return [
            AuditEntry(int(r[0]), str(r[1]), str(r[2]), r[3], r[4], r[5])  # type: ignore[call-overload,arg-type]
            for r in await self.db.run(op)
        ]

    async def add_staff(self, account: StaffAccount) -> None:
        def op(c: sqlite3.Connection) -> None:
            try:
                c.execute(
                    "INSERT INTO staff (name, id, role, password_hash, created_at) VALUES (?,?,?,?,?)",
                    (account.name, account.id, int(account.role), account.password_hash, account.created_at),
                )
            except sqlite3.IntegrityError:
                raise Conflict(f"A staff account named {account.name!r} already exists.") from None

        await self.db.run(op)

    async def get_staff(self, name: str) -> StaffAccount | None:
        row = await self.db.run(
            lambda c: c.execute(
                "SELECT name, id, role, password_hash, created_at FROM staff WHERE name=?", (name,)
            ).fetchone()
        )
        return None if row is None else _staff(row)

    async def get_staff_by_id(self, staff_id: str) -> StaffAccount | None:
        row = await self.db.run(
            lambda c: c.execute(
                "SELECT name, id, role, password_hash, created_at FROM staff WHERE id=?", (staff_id,)
            ).fetchone()
        )
        return None if row is None else _staff(row)

    async def list_staff(self) -> list[StaffAccount]:
        rows = await self.db.run(
            lambda c: c.execute("SELECT name, id, role, password_hash, created_at FROM staff ORDER BY name").fetchall()
        )
        return [_staff(r) for r in rows]

    async def remove_staff(self, name: str) -> StaffAccount | None:
        def op(c: sqlite3.Connection) -> StaffAccount | None:
            row = c.execute(
                "SELECT name, id, role, password_hash, created_at FROM staff WHERE name=?", (name,)
            ).fetchone()
            if row is None:
                return None
            c.execute("DELETE FROM staff WHERE name=?", (name,))
            return _staff(row)

        return await self.db.run(op)

    async def set_staff_password(self, name: str, password_hash: str) -> bool:
        return await self.db.run(
            lambda c: c.execute("UPDATE staff SET password_hash=? WHERE name=?", (password_hash, name)).rowcount > 0
        )
