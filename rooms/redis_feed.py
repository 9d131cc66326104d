"""Each room's feed in Redis, read by the processes hosting the room from the last entry they delivered.

Storing a message appends its id to ``hearth:room:<room>:feed`` (a stream) in the same
script (``rooms/lua/add_message.lua``). A process follows the feeds of the rooms it hosts
(a socket of its own in the room) with one blocking XREAD from its own cursors, so after an
outage or a Redis restart it carries on where it stopped: nothing acked is skipped, nothing
is delivered twice, and each room's order is the feed's order.

A process starts following a room when its first socket there joins (``follow``, called
after the socket is in the Socket.IO room and before the join reads the history): from the
feed's last entry at that moment, so what the history does not hold arrives through the
feed. It wakes its blocking read (an entry on its own wake stream) so the new room is read
at once, and stops following once no socket of its own is in the room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import redis.asyncio as aioredis

from rooms.errors import Unavailable
from rooms.models import SealedMessage
from rooms.redis_common import DOWN, guarded, key, stop_task, text

log = logging.getLogger(__name__)

Deliver = Callable[[str, list[SealedMessage]], Awaitable[None]]
Hosted = Callable[[str], bool]
START = "0-0"
WAKE_TTL_S = 3600  # a wake stream outlives its process by at most this (it is deleted at shutdown)


class FeedCounts(Protocol):
    """What the feed reads, counted by the caller (server/metrics.py): ``read`` per room, ``fetched`` per read."""

    def read(self, hosted: bool, entries: int) -> None: ...

    def fetched(self, bodies: int, size: int) -> None: ...


class _Uncounted:
    def read(self, hosted: bool, entries: int) -> None:
        pass

    def fetched(self, bodies: int, size: int) -> None:
        pass


def _feed(room_id: str) -> str:
    return key("room", room_id, "feed")


def _id(entry_id: bytes | str) -> tuple[int, int]:
    ms, _, seq = text(entry_id).partition("-")
    return int(ms), int(seq or 0)


class RedisFeed:
    """Follows the feeds of the rooms hosted here; hands their messages to ``deliver``."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        block_ms: int = 1000,
        retry_s: float = 0.2,
        counts: FeedCounts | None = None,
    ) -> None:
        self.r = client
        self.counts: FeedCounts = counts or _Uncounted()
        self.block_ms = block_ms
        self.retry_s = retry_s
        self.cursors: dict[str, str] = {}  # followed room -> the last entry delivered (or skipped)
        self.wake_key = key("feedwake", uuid.uuid4().hex)  # this process's: an entry ends its blocking read
        self._wake_cursor = START
        self._task: asyncio.Task[None] | None = None

    async def start(self, deliver: Deliver, hosted: Hosted) -> None:
        """Begin reading; rooms are followed as sockets join them (``follow``)."""
        self._task = asyncio.create_task(self._run(deliver, hosted), name="room-feed")

    async def aclose(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            await stop_task(task)
        with contextlib.suppress(*DOWN):  # Redis gone: the key expires by itself
            await self.r.delete(self.wake_key)

    @guarded
    async def follow(self, room_id: str) -> None:
        """Deliver the room's messages from now on: from its feed's last entry, read without waiting."""
        if room_id in self.cursors:
            return
        (last,) = await self._last_ids([room_id])
        # A concurrent follow of the same room may have set it first, from an entry at or
        # before this one: keep that, so nothing between the two is skipped.
        self.cursors.setdefault(room_id, last)
        async with self.r.pipeline(transaction=False) as pipe:
            pipe.xadd(self.wake_key, {"w": "1"}, maxlen=1, approximate=False)
            pipe.expire(self.wake_key, WAKE_TTL_S)
            await pipe.execute()

    async def _last_ids(self, rooms: list[str]) -> list[str]:
        async with self.r.pipeline(transaction=False) as pipe:
            for room_id in rooms:
                pipe.xrevrange(_feed(room_id), count=1)
            replies = await pipe.execute()
        return [text(reply[0][0]) if reply else START for reply in replies]

    async def _check_cursors(self) -> None:
        """After an outage: a feed that restarted below our cursor (Redis lost its data) is read anew."""
        rooms = list(self.cursors)
        restarted = 0
        for room_id, last in zip(rooms, await self._last_ids(rooms), strict=True):
            if room_id in self.cursors and _id(last) < _id(self.cursors[room_id]):
                self.cursors[room_id] = START
                restarted += 1
        if restarted:
            log.warning("event=feed_restarted rooms=%d", restarted)
        self._wake_cursor = START  # at worst one needless wake-up

    async def _run(self, deliver: Deliver, hosted: Hosted) -> None:
        recovering = False
        while True:
            try:
                if recovering:
                    await self._check_cursors()
                    recovering = False
                    log.info("event=feed_resumed rooms=%d", len(self.cursors))
                await self.read_once(deliver, hosted)
            except (*DOWN, Unavailable):
                if not recovering:
                    log.warning("event=feed_read code=unavailable")
                recovering = True
                await asyncio.sleep(self.retry_s)
            except Exception:
                log.exception("event=feed_read unhandled")
                await asyncio.sleep(self.retry_s)

    async def read_once(self, deliver: Deliver, hosted: Hosted) -> int:
        """One blocking read of the followed feeds; deliver what arrived; return how many entries."""
        for room_id in [r for r in self.cursors if not hosted(r)]:
            del self.cursors[room_id]  # no socket here any more: followed again from its end on the next join
        streams: dict[Any, Any] = {_feed(room_id): cursor for room_id, cursor in self.cursors.items()}
        streams[self.wake_key] = self._wake_cursor
        reply: Any = await self.r.xread(streams, count=1000, block=self.block_ms)
        read: list[tuple[str, str, list[str]]] = []  # (room, its last entry read, ids to deliver here)
        count = 0
        for stream, entries in reply or []:
            if not entries:
                continue
            if text(stream) == self.wake_key:
                self._wake_cursor = text(entries[-1][0])
                continue
            room_id = text(stream).split(":")[2]
            if room_id not in self.cursors:
                continue
            here = hosted(room_id)
            self.counts.read(here, len(entries))
            ids = [text(fields[b"id"]) for _, fields in entries if b"id" in fields] if here else []
            read.append((room_id, text(entries[-1][0]), ids))
            count += len(entries)
        bodies = await self._bodies([(room_id, ids) for room_id, _, ids in read if ids])
        for room_id, last, ids in read:
            if ids:
                await deliver(room_id, bodies[room_id])
            if room_id in self.cursors:  # not dropped while the bodies were fetched
                self.cursors[room_id] = last
        return count

    async def _bodies(self, wanted: list[tuple[str, list[str]]]) -> dict[str, list[SealedMessage]]:
        """Each room's messages still stored (a deleted or expired one is skipped), in feed order: one round trip."""
        if not wanted:
            return {}
        async with self.r.pipeline(transaction=False) as pipe:
            for room_id, ids in wanted:
                for message_id in ids:
                    pipe.hmget(key("room", room_id, "msg", message_id), ["ts", "expires_at", "epoch", "blob"])
            rows = iter(await pipe.execute())
        found: dict[str, list[SealedMessage]] = {}
        total = size = 0
        for room_id, ids in wanted:
            messages = found[room_id] = []
            for message_id in ids:
                ts, exp, epoch, blob = next(rows)
                if blob is not None:
                    messages.append(SealedMessage(room_id, message_id, int(ts), int(exp), int(epoch), bytes(blob)))
                    total += 1
                    size += len(blob)
        self.counts.fetched(total, size)
        return found
