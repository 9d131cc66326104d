"""The one place the stores (and the control bus beside them) are opened, SQLite or Redis, and closed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from crypto.keys import derive_key
from moderation.safety_store import SafetyStore
from moderation.store import ModStore
from rooms.errors import Unavailable
from rooms.presence import Presence
from rooms.store import RoomStore
from server import metrics
from server.bus import CHANNEL as CONTROL_CHANNEL
from server.bus import Bus, LocalBus, RedisBus
from server.config import Config, ConfigError
from server.pubsub_seal import ChannelSeal

if TYPE_CHECKING:
    from rooms.redis_feed import RedisFeed

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None]]
PRESENCE_PURPOSE = b"presence-pseudonyms/v1"


@dataclass
class Stores:
    """The opened stores. They share one connection (a database or a Redis client), closed here only."""

    rooms: RoomStore
    mod: ModStore
    presence: Presence
    bus: Bus
    safety: SafetyStore
    feed: RedisFeed | None = None  # Redis: the feeds of stored messages of the rooms hosted here (server/delivery.py)
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
    from moderation.safety_sqlite import SqliteSafetyStore
    from moderation.sqlite_store import SqliteModStore
    from rooms.presence import MemoryPresence
    from rooms.sqlite_db import SqliteDatabase
    from rooms.sqlite_store import SqliteRoomStore

    db = SqliteDatabase(config.db_path)
    await db.open()
    room_store, mod_store, presence = SqliteRoomStore(db), SqliteModStore(db), MemoryPresence()
    safety = SqliteSafetyStore(db)
    try:
        await room_store.open()
        await mod_store.open()
        await safety.open()
    except BaseException:
        await db.aclose()
        raise
    bus = LocalBus()
    return Stores(room_store, mod_store, presence, bus, safety, None, [db.aclose, presence.aclose, bus.aclose])


async def _open_redis(config: Config) -> Stores:
    from moderation.redis_store import RedisModStore
    from moderation.safety_redis import RedisSafetyStore
    from rooms.redis_common import connect
    from rooms.redis_feed import RedisFeed
    from rooms.redis_presence import RedisPresence
    from rooms.redis_store import RedisRoomStore

    if config.redis_url is None or config.secret is None:
        raise ConfigError("Redis mode needs REDIS_URL and HEARTH_SECRET_KEY.")
    # Pseudonyms of online members are sealed in Redis like everything else a person typed; every
    # process derives the same key from the shared secret (older secrets open, during a rotation).
    seal_keys = [derive_key(master, PRESENCE_PURPOSE) for master in config.secret.keys]
    client = connect(config.redis_url, pool_size=config.redis_pool_size, pool_timeout_s=config.redis_pool_timeout_s)
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
    seal = ChannelSeal(config.secret.keys, CONTROL_CHANNEL)
    bus = RedisBus(config.redis_url, process_id=presence.process_id, alive=presence.alive, seal=seal)
    # Closed in reverse: the bus stops listening, presence stops its heartbeat (and drops it),
    # then the client closes.
    closers: list[Closer] = [client.aclose, presence.aclose, bus.aclose]
    return Stores(
        room_store,
        RedisModStore(client),
        presence,
        bus,
        RedisSafetyStore(client),
        RedisFeed(client, counts=metrics.FeedMetrics()),
        closers,
    )
