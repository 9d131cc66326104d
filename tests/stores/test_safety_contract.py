"""The safety store and version 1.1 flags under one contract: SQLite and a real Redis."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from moderation.models import Resolution, StoredFlag
from moderation.safety_redis import RedisSafetyStore
from moderation.safety_sqlite import SqliteSafetyStore
from moderation.safety_store import SafetyStore
from moderation.sqlite_store import SqliteModStore
from rooms.sqlite_db import SqliteDatabase
from tests.stores.conftest import Stores


async def _safety(stores: Stores) -> SafetyStore:
    if stores.kind == "sqlite":
        store = SqliteSafetyStore(stores.mod.db)  # type: ignore[attr-defined]
        await store.open()
        return store
    return RedisSafetyStore(stores.mod.r)  # type: ignore[attr-defined]


def _flag(fid: str, now: int, *, message: str | None, reporter: str | None, room: str = "circle") -> StoredFlag:
    return StoredFlag(
        id=fid,
        room=room,
        message_id=message,
        author_id=None if message is None else "author",
        reporter=reporter,
        reason="crisis signal" if reporter is None else "help request",
        created_at=now,
        status="open",
        resolution=None,
        snapshot=None if message is None else b"\x01snap",
        snapshot_key=None if message is None else b"\x02key",
    )


async def test_guideline_acceptance_is_per_member_room_and_version(stores: Stores) -> None:
    s = await _safety(stores)
    assert await s.accepted_guidelines("circle", "m1") == 0
    await s.accept_guidelines("circle", "m1", 2)
    assert await s.accepted_guidelines("circle", "m1") == 2
    assert await s.accepted_guidelines("circle", "m2") == 0
    assert await s.accepted_guidelines("other", "m1") == 0
    await s.accept_guidelines("circle", "m1", 3)
    assert await s.accepted_guidelines("circle", "m1") == 3
    await s.accept_guidelines("other", "m1", 1)
    await s.delete_room("circle")
    assert await s.accepted_guidelines("circle", "m1") == 0
    assert await s.accepted_guidelines("other", "m1") == 1


async def test_a_crisis_flag_has_no_reporter_and_round_trips(stores: Stores, now: int) -> None:
    flag = _flag("f1", now, message="m1", reporter=None)
    assert await stores.mod.add_flag(flag) == "f1"
    assert await stores.mod.get_flag("f1") == flag
    assert [f.id for f in await stores.mod.list_flags("open", limit=10)] == ["f1"]


async def test_help_request_flags_have_no_message_and_are_never_merged(stores: Stores, now: int) -> None:
    first = _flag("f1", now, message=None, reporter="m7")
    second = _flag("f2", now + 1, message=None, reporter="m7")
    assert await stores.mod.add_flag(first) == "f1"
    assert await stores.mod.add_flag(second) == "f2"
    assert await stores.mod.get_flag("f1") == first
    assert [f.id for f in await stores.mod.list_flags(None, limit=10)] == ["f1", "f2"]
    assert await stores.mod.resolve_flag("f1", "dismissed", Resolution("dismiss", "admin", now + 5), now + 99)
    assert (await stores.mod.get_flag("f1")).status == "dismissed"  # type: ignore[union-attr]
    await stores.mod.delete_room("circle")
    assert await stores.mod.list_flags(None, limit=10) == []


async def test_a_member_flag_of_a_message_is_still_deduplicated(stores: Stores, now: int) -> None:
    server = _flag("f1", now, message="m1", reporter=None)
    member = _flag("f2", now, message="m1", reporter="m3")
    again = _flag("f3", now, message="m1", reporter="m3")
    assert await stores.mod.add_flag(server) == "f1"
    assert await stores.mod.add_flag(member) == "f2"
    assert await stores.mod.add_flag(again) == "f2"


async def test_a_version_1_database_is_migrated_keeping_its_flags(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE flags (
            id TEXT PRIMARY KEY, room TEXT NOT NULL, message_id TEXT NOT NULL, author_id TEXT NOT NULL,
            reporter TEXT NOT NULL, reason TEXT NOT NULL, created_at INTEGER NOT NULL, status TEXT NOT NULL,
            resolution TEXT, snapshot BLOB, snapshot_key BLOB, purge_after INTEGER,
            UNIQUE (room, message_id, reporter)
        );
        INSERT INTO flags VALUES ('f0','circle','m1','a','r','old',5,'open',NULL,x'01',x'02',NULL);
        """
    )
    conn.commit()
    conn.close()
    db = SqliteDatabase(path)
    await db.open()
    try:
        store = SqliteModStore(db)
        await store.open()
        await store.open()  # a second start-up leaves it alone
        assert (await store.get_flag("f0")).reason == "old"  # type: ignore[union-attr]
        assert await store.add_flag(_flag("f1", 10, message="m2", reporter=None)) == "f1"
        assert await store.add_flag(_flag("f2", 11, message=None, reporter="m3")) == "f2"
        assert [f.id for f in await store.list_flags("open", limit=10)] == ["f0", "f1", "f2"]
    finally:
        await db.aclose()


async def test_redis_keys_written_are_in_the_documented_layout(redis_stores: Stores) -> None:
    from tests.stores.test_redis import documented_keys

    s = await _safety(redis_stores)
    await s.accept_guidelines("circle", "m1", 1)
    patterns = documented_keys()
    r = redis_stores.mod.r  # type: ignore[attr-defined]
    written = [k.decode() async for k in r.scan_iter(match="hearth:room:*")]
    assert written == ["hearth:room:circle:guidelines-accepted"]
    assert all(any(p.match(k) for p in patterns) for k in written)
