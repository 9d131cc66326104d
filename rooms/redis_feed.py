"""Each room's feed in Redis, read by every process from the last entry it delivered.

Storing a message appends its id to ``hearth:room:<room>:feed`` (a stream) in the same
script (``rooms/lua/add_message.lua``). Every process reads all feeds with one blocking
XREAD from its own cursors, so after an outage or a Redis restart it carries on where it
stopped: nothing acked is skipped, nothing is delivered twice, and each room's order is
the feed's order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import redis.asyncio as aioredis

from rooms.errors import Unavailable
from rooms.models import SealedMessage
from rooms.redis_common import DOWN, guarded, key, stop_task, text, texts

log = logging.getLogger(__name__)

Deliver = Callable[[str, list[SealedMessage]], Awaitable[None]]
Hosted = Callable[[str], bool]
START = "0-0"


class FeedCounts(Protocol):
    """What the feed reads, counted by the caller (server/metrics.py): one call per room and read."""

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
    """Follows every room's feed; hands the messages of rooms with sockets here to ``deliver``."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        block_ms: int = 1000,
        refresh_s: float = 1.0,
        retry_s: float = 0.2,
        counts: FeedCounts | None = None,
    ) -> None:
        self.r = client
        self.counts: FeedCounts = counts or _Uncounted()
        self.block_ms = block_ms
        self.refresh_s = refresh_s
        self.retry_s = retry_s
        self.cursors: dict[str, str] = {}
        self._refreshed_at = 0.0
        self._task: asyncio.Task[None] | None = None

    @guarded
    async def start(self, deliver: Deliver, hosted: Hosted) -> None:
        """Begin at the end of every existing feed: what is already stored reaches joiners as history."""
        rooms = texts(await self.r.zrange(key("rooms"), 0, -1))
        self.cursors = dict(zip(rooms, await self._last_ids(rooms), strict=True))
        self._refreshed_at = time.monotonic()
        self._task = asyncio.create_task(self._run(deliver, hosted), name="room-feed")

    async def aclose(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            await stop_task(task)

    async def _last_ids(self, rooms: list[str]) -> list[str]:
        async with self.r.pipeline(transaction=False) as pipe:
            for room_id in rooms:
                pipe.xrevrange(_feed(room_id), count=1)
            replies = await pipe.execute()
        return [text(reply[0][0]) if reply else START for reply in replies]

    async def _refresh(self) -> None:
        """Follow rooms created since (from their first entry), drop deleted ones."""
        rooms = set(texts(await self.r.zrange(key("rooms"), 0, -1)))
        for room_id in rooms - self.cursors.keys():
            self.cursors[room_id] = START
        for room_id in self.cursors.keys() - rooms:
            del self.cursors[room_id]
        self._refreshed_at = time.monotonic()

    async def _check_cursors(self) -> None:
        """After an outage: a feed that restarted below our cursor (Redis lost its data) is read anew."""
        rooms = list(self.cursors)
        restarted = 0
        for room_id, last in zip(rooms, await self._last_ids(rooms), strict=True):
            if _id(last) < _id(self.cursors[room_id]):
                self.cursors[room_id] = START
                restarted += 1
        if restarted:
            log.warning("event=feed_restarted rooms=%d", restarted)

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
        """One blocking read of every feed; deliver what arrived; return how many entries."""
        if time.monotonic() - self._refreshed_at >= self.refresh_s:
            await self._refresh()
        if not self.cursors:
            await asyncio.sleep(self.refresh_s)
            return 0
        streams: dict[Any, Any] = {_feed(room_id): cursor for room_id, cursor in self.cursors.items()}
        reply: Any = await self.r.xread(streams, count=1000, block=self.block_ms)
        count = 0
        for stream, entries in reply or []:
            room_id = text(stream).split(":")[2]
            if room_id not in self.cursors or not entries:
                continue
            here = hosted(room_id)
            self.counts.read(here, len(entries))
            if here:
                ids = [text(fields[b"id"]) for _, fields in entries if b"id" in fields]
                await deliver(room_id, await self._bodies(room_id, ids))
            self.cursors[room_id] = text(entries[-1][0])
            count += len(entries)
        return count

    async def _bodies(self, room_id: str, ids: list[str]) -> list[SealedMessage]:
        """The messages still stored (a deleted or expired one is skipped), in feed order."""
        async with self.r.pipeline(transaction=False) as pipe:
            for message_id in ids:
                pipe.hmget(key("room", room_id, "msg", message_id), ["ts", "expires_at", "epoch", "blob"])
            rows = await pipe.execute()
        found = [
            SealedMessage(room_id, message_id, int(ts), int(exp), int(epoch), bytes(blob))
            for message_id, (ts, exp, epoch, blob) in zip(ids, rows, strict=True)
            if blob is not None
        ]
        self.counts.fetched(len(found), sum(len(m.blob) for m in found))
        return found
