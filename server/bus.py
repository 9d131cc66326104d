"""Control messages every process must act on (a removal, a removed staff account's sockets).

``publish`` is fire-and-forget (a cache to drop). ``request`` is for effects a moderator is
told happened: it returns only once every process named has handled the message and said so,
and raises Unavailable otherwise (the bus is down, or a live process did not answer in time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from rooms.errors import Unavailable
from rooms.redis_common import DOWN, stop_task
from server.pubsub_seal import ChannelSeal, Rejected

log = logging.getLogger(__name__)
Handler = Callable[[dict[str, Any]], Awaitable[None]]
Alive = Callable[[Collection[str]], Awaitable[set[str]]]
CHANNEL = "hearth:control"
ACK_TIMEOUT_S = 2.0  # how long a request waits for every process to confirm


class Bus(Protocol):
    process_id: str

    async def start(self, handler: Handler) -> None: ...
    async def publish(self, message: dict[str, Any]) -> None: ...

    async def request(self, message: dict[str, Any], *, to: Collection[str]) -> None:
        """Have every process in ``to`` handle ``message``; raise Unavailable unless all of them did."""

    async def aclose(self) -> None: ...


class LocalBus:
    """One process: a published message is handled at once, here."""

    process_id = "local"

    def __init__(self) -> None:
        self._handler: Handler | None = None

    async def start(self, handler: Handler) -> None:
        self._handler = handler

    async def publish(self, message: dict[str, Any]) -> None:
        if self._handler is not None:
            await self._handler(message)

    async def request(self, message: dict[str, Any], *, to: Collection[str]) -> None:
        await self.publish(message)

    async def aclose(self) -> None:
        self._handler = None


@dataclass
class _Waiter:
    pending: set[str]
    done: asyncio.Event = field(default_factory=asyncio.Event)


class RedisBus:
    """Many processes: JSON over a Redis pub/sub channel, handled by every process, this one included."""

    def __init__(
        self, url: str, *, process_id: str, alive: Alive, seal: ChannelSeal, ack_timeout_s: float = ACK_TIMEOUT_S
    ) -> None:
        """``alive`` tells which processes still have a heartbeat: one that died need not confirm.
        ``seal`` seals what is published and refuses what was not (server/pubsub_seal.py)."""
        import redis.asyncio as aioredis

        self.process_id = process_id
        self._seal = seal
        self._alive = alive
        self._ack_timeout_s = ack_timeout_s
        # Its own client: the subscription holds a connection and waits on it without a timeout.
        self._redis = aioredis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=None)
        self._task: asyncio.Task[None] | None = None
        self._waiting: dict[str, _Waiter] = {}
        self._subscribed = asyncio.Event()

    async def start(self, handler: Handler) -> None:
        self._task = asyncio.create_task(self._listen(handler), name="control-bus")

    async def _listen(self, handler: Handler) -> None:
        import redis.exceptions

        delay = 0.1
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._subscribed.set()
                    delay = 0.1
                    async for item in pubsub.listen():
                        if item.get("type") == "message":
                            await self._dispatch(handler, item["data"])
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
                self._subscribed.clear()
                log.warning("event=control_listen code=unavailable retry_in_s=%.1f", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _dispatch(self, handler: Handler, data: bytes) -> None:
        try:
            message = orjson.loads(self._seal.open(data))
        except Rejected:
            return  # logged and counted
        except orjson.JSONDecodeError:
            log.warning("event=control_message code=invalid")
            return
        if not isinstance(message, dict):
            return
        if message.get("op") == "ack":
            waiter = self._waiting.get(str(message.get("id")))
            if waiter is not None:
                waiter.pending.discard(str(message.get("pid")))
                if not waiter.pending:
                    waiter.done.set()
            return
        try:
            await handler(message)
        except Exception:
            log.exception("event=control_message unhandled")
            return  # no confirmation: the requester answers `unavailable`
        ack = message.get("ack")
        if ack is not None and self.process_id in message.get("to", ()):
            with contextlib.suppress(Unavailable):
                await self.publish({"op": "ack", "id": ack, "pid": self.process_id})

    async def publish(self, message: dict[str, Any]) -> None:
        try:
            await self._redis.publish(CHANNEL, self._seal.seal(orjson.dumps(message)))
        except DOWN as exc:
            raise Unavailable() from exc

    async def request(self, message: dict[str, Any], *, to: Collection[str]) -> None:
        targets = set(to)
        if not targets:
            return
        if not self._subscribed.is_set():  # we would not even hear the confirmations
            raise Unavailable("The control channel is reconnecting; retry shortly.")
        request_id = secrets.token_hex(8)
        waiter = self._waiting[request_id] = _Waiter(set(targets))
        try:
            await self.publish({**message, "ack": request_id, "to": sorted(targets)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter.done.wait(), self._ack_timeout_s)
            if waiter.pending and await self._alive(waiter.pending):
                log.warning("event=control_request code=unavailable unconfirmed=%d", len(waiter.pending))
                raise Unavailable("Not every server process confirmed the change; retry shortly.")
        finally:
            self._waiting.pop(request_id, None)

    async def aclose(self) -> None:
        self._subscribed.clear()
        if self._task is not None:
            task, self._task = self._task, None
            await stop_task(task)
        await self._redis.aclose()  # also when it was never started (a publish opens a connection)
