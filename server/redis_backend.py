"""Redis mode: one shared client, the Redis stores and cross-process presence, and how to close them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from crypto.keys import derive_key
from moderation.redis_store import RedisModStore
from moderation.store import ModStore
from rooms.errors import Unavailable
from rooms.presence import Presence
from rooms.redis_presence import RedisPresence
from rooms.redis_store import RedisRoomStore, connect
from rooms.store import RoomStore
from server.config import Config, ConfigError

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None]]
PRESENCE_PURPOSE = b"presence-pseudonyms/v1"


async def open_redis_stores(config: Config) -> tuple[RoomStore, ModStore, Presence, list[Closer]]:
    """Connect (failing start-up with Unavailable when Redis is unreachable) and start the heartbeat."""
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
    # Run in reverse: presence stops its heartbeat before the client closes.
    return room_store, RedisModStore(client), presence, [client.aclose, presence.aclose]
