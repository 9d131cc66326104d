"""The one place the stores are opened: SQLite (embedded) or Redis (shared), and how they close."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from crypto.keys import derive_key
from moderation.store import ModStore
from rooms.errors import Unavailable
from rooms.presence import Presence
from rooms.store import RoomStore
from server.config import Config, ConfigError

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None]]
PRESENCE_PURPOSE = b"presence-pseudonyms/v1"


@dataclass
class Stores:
    """The opened stores. They share one connection (a database or a Redis client), closed here only."""

    rooms: RoomStore
    mod: ModStore
    presence: Presence
    closers: list[Closer] = field(default_factory=list)  # run in reverse order by aclose()

    async def aclose(self) -> None:
        closers, self.closers = self.closers, []
        for close in reversed(closers):
            await close()


async def open_stores(config: Config) -> Stores:
    """Open the configured backend; fail start-up with Unavailable when Redis is unreachable."""
    if config.redis_url is None:
        return await _open_sqlite(config)
    return await _open_redis(config)


async def _open_sqlite(config: Config) -> Stores:
    from moderation.sqlite_store import SqliteModStore
    from rooms.presence import MemoryPresence
    from rooms.sqlite_db import SqliteDatabase
    from rooms.sqlite_store import SqliteRoomStore

    db = SqliteDatabase(config.db_path)
    await db.open()
    room_store, mod_store, presence = SqliteRoomStore(db), SqliteModStore(db), MemoryPresence()
    try:
        await room_store.open()
        await mod_store.open()
    except BaseException:
        await db.aclose()
        raise
    return Stores(room_store, mod_store, presence, [db.aclose, presence.aclose])


async def _open_redis(config: Config) -> Stores:
    from moderation.redis_store import RedisModStore
    from rooms.redis_common import connect
    from rooms.redis_presence import RedisPresence
    from rooms.redis_store import RedisRoomStore

    if config.redis_url is None or config.secret is None:
        raise ConfigError("Redis mode needs REDIS_URL and HEARTH_SECRET_KEY.")
    # Pseudonyms of online members are sealed in Redis like everything else a person typed; every
    # process derives the same key from the shared secret (older secrets open, during a rotation).
    seal_keys = [derive_key(master, PRESENCE_PURPOSE) for master in config.secret.keys]
    client = connect(config.redis_url)
    room_store = RedisRoomStore(client)
    try:
        await room_store.ping()
    except Unavailable:
        await client.aclose()
        log.error("event=start code=unavailable store=redis")
        raise Unavailable("Redis is unreachable at REDIS_URL; start it or fix the URL.") from None
    ttl_ms = config.presence_ttl_s * 1000
    # Three beats per lifetime: one lost beat (a slow Redis call) does not make us look dead.
    presence = RedisPresence(client, seal_keys=seal_keys, ttl_ms=ttl_ms, interval_s=ttl_ms / 3000)
    await presence.start()
    log.info("event=presence_started process=%s", presence.process_id)
    # Closed in reverse: presence stops its heartbeat (and drops it) before the client closes.
    return Stores(room_store, RedisModStore(client), presence, [client.aclose, presence.aclose])
