"""Redis mode: one shared client, the Redis stores and cross-process presence, and how to close them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from moderation.redis_store import RedisModStore
from moderation.store import ModStore
from rooms.errors import Unavailable
from rooms.presence import Presence
from rooms.redis_presence import RedisPresence
from rooms.redis_store import RedisRoomStore, connect
from rooms.store import RoomStore
from server.config import Config

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None]]


async def open_redis_stores(config: Config) -> tuple[RoomStore, ModStore, Presence, list[Closer]]:
    """Connect (failing start-up with Unavailable when Redis is unreachable) and start the heartbeat."""
    assert config.redis_url is not None
    client = connect(config.redis_url)
    room_store = RedisRoomStore(client)
    try:
        await room_store.ping()
    except Unavailable:
        await client.aclose()
        log.error("event=start code=unavailable store=redis")
        raise Unavailable("Redis is unreachable at REDIS_URL; start it or fix the URL.") from None
    presence = RedisPresence(client)
    await presence.start()
    log.info("event=presence_started process=%s", presence.process_id)
    # Run in reverse: presence stops its heartbeat before the client closes.
    return room_store, RedisModStore(client), presence, [client.aclose, presence.aclose]
