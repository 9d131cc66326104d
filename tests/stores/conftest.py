"""The stores under contract: SQLite (with in-process presence) and a real Redis, behind one fixture."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from moderation.store import ModStore
from rooms.presence import Presence
from rooms.store import RoomStore

SEAL_KEY = b"s" * 32  # seals pseudonyms in Redis presence


@dataclass
class Stores:
    kind: str
    rooms: RoomStore
    mod: ModStore
    presence: Presence
    # Another server process on the same shared state (Redis only); the tests close what it opens.
    open_process: Callable[..., Awaitable[Presence]] | None = None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


@pytest.fixture
def now() -> int:
    """A fixed "now" near the wall clock: Redis-side expiry (PXAT) must not fire during a test."""
    return (time.time_ns() // 1_000_000 // 1000) * 1000


@pytest.fixture(params=["sqlite", "redis"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    async with open_stores(str(request.param), request, tmp_path) as bundle:
        yield bundle


@pytest.fixture
async def redis_stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    async with open_stores("redis", request, tmp_path) as bundle:
        yield bundle


@asynccontextmanager
async def open_stores(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    if kind == "sqlite":
        from moderation.sqlite_store import SqliteModStore
        from rooms.presence import MemoryPresence
        from rooms.sqlite_db import SqliteDatabase
        from rooms.sqlite_store import SqliteRoomStore

        db = SqliteDatabase(tmp_path / "hearth.db")
        await db.open()
        room_store, mod_store = SqliteRoomStore(db), SqliteModStore(db)
        await room_store.open()
        await mod_store.open()
        bundle = Stores("sqlite", room_store, mod_store, MemoryPresence(), closers=[db.aclose])
    else:
        from moderation.redis_store import RedisModStore
        from rooms.redis_common import connect
        from rooms.redis_presence import RedisPresence
        from rooms.redis_store import RedisRoomStore

        client = connect(request.getfixturevalue("redis_server"))
        await client.flushdb()
        presence = RedisPresence(client, seal_keys=[SEAL_KEY], process_id="process-a")
        await presence.start()

        async def open_process(**options: object) -> Presence:
            options.setdefault("seal_keys", [SEAL_KEY])
            other = RedisPresence(client, **options)  # type: ignore[arg-type]
            await other.start()
            bundle.closers.append(other.stop_heartbeat)
            return other

        bundle = Stores(
            "redis",
            RedisRoomStore(client),
            RedisModStore(client),
            presence,
            open_process,
            closers=[client.aclose, presence.stop_heartbeat],
        )
    try:
        yield bundle
    finally:
        for close in reversed(bundle.closers):
            await close()
