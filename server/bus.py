"""Control messages every process must act on (a removed staff account's sockets, for one)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson

log = logging.getLogger(__name__)
Handler = Callable[[dict[str, Any]], Awaitable[None]]
CHANNEL = "hearth:control"


class Bus(Protocol):
    async def start(self, handler: Handler) -> None: ...
    async def publish(self, message: dict[str, Any]) -> None: ...
    async def aclose(self) -> None: ...


class LocalBus:
    """One process: a published message is handled at once, here."""

    def __init__(self) -> None:
        self._handler: Handler | None = None

    async def start(self, handler: Handler) -> None:
        self._handler = handler

    async def publish(self, message: dict[str, Any]) -> None:
        if self._handler is not None:
            await self._handler(message)

    async def aclose(self) -> None:
        self._handler = None


class RedisBus:
    """Many processes: JSON over a Redis pub/sub channel, handled by every process, this one included."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self._redis = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=None)
        self._task: asyncio.Task[None] | None = None

    async def start(self, handler: Handler) -> None:
        self._task = asyncio.create_task(self._listen(handler))

    async def _listen(self, handler: Handler) -> None:
        import redis.exceptions

        delay = 0.5
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    delay = 0.5
                    async for item in pubsub.listen():
                        if item.get("type") != "message":
                            continue
                        try:
                            await handler(orjson.loads(item["data"]))
                        except Exception:
                            log.exception("event=control_message unhandled")
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
                log.warning("event=control_listen code=unavailable retry_in_s=%.1f", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def publish(self, message: dict[str, Any]) -> None:
        import redis.exceptions

        from rooms.errors import Unavailable

        try:
            await self._redis.publish(CHANNEL, orjson.dumps(message))
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise Unavailable() from exc

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()
