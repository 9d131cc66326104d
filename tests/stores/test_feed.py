"""Each room's feed on a real Redis: every stored message reaches every reader once, in order,
across a Redis restart; deleted ones are skipped; a reader follows only the rooms it hosts,
each from the feed's last entry when it starts following it, and is woken to read it at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rooms.models import Room, SealedMessage
from rooms.redis_common import connect
from rooms.redis_feed import RedisFeed
from rooms.redis_store import RedisRoomStore
from tests.conftest import RedisProcess

HOUR = 3_600_000


def sealed(room: str, n: int, now: int) -> SealedMessage:
    return SealedMessage(room, f"m{n:04d}", now + n, now + n + HOUR, 1, b"blob%d" % n)


class Reader:
    def __init__(self, feed: RedisFeed, hosted: set[str]) -> None:
        self.feed = feed
        self.hosted = hosted
        self.got: dict[str, list[str]] = {}

    async def deliver(self, room_id: str, messages: list[SealedMessage]) -> None:
        self.got.setdefault(room_id, []).extend(m.id for m in messages)

    async def read(self) -> int:
        return await self.feed.read_once(self.deliver, self.hosted.__contains__)


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path, appendonly=True)
    server.start()
    yield server
    server.stop()


async def test_two_readers_get_every_message_once_in_order_across_a_restart(durable_redis: RedisProcess) -> None:
    now = time.time_ns() // 1_000_000
    client = connect(durable_redis.url)
    store = RedisRoomStore(client)
    try:
        await store.create_room(Room("circle", "Circle", created_at=now))
        await store.add_message(sealed("circle", 0, now))  # before the readers start: history, not feed
        feeds = [RedisFeed(client, block_ms=50), RedisFeed(client, block_ms=50)]
        readers = [Reader(f, {"circle"}) for f in feeds]
        for f in feeds:
            await f.follow("circle")  # a socket of each process joins: from the feed's end
        for n in range(1, 6):
            await store.add_message(sealed("circle", n, now))
        assert await readers[0].read() == 5
        durable_redis.stop()
        durable_redis.start()  # same data (AOF)
        for n in range(6, 9):
            await store.add_message(sealed("circle", n, now))
        await store.delete_message("circle", "m0007")  # deleted before delivery: skipped
        for r in readers:
            while await r.read():
                pass
        expected = ["m0001", "m0002", "m0003", "m0004", "m0005", "m0006", "m0008"]
        assert [r.got["circle"] for r in readers] == [expected, expected]
    finally:
        await client.aclose()


async def test_a_reader_follows_only_the_rooms_it_hosts_from_when_it_starts(redis_server: str) -> None:
    now = time.time_ns() // 1_000_000
    client = connect(redis_server)
    await client.flushdb()
    store = RedisRoomStore(client)
    feed = RedisFeed(client, block_ms=50)
    reader = Reader(feed, {"here", "new"})
    try:
        await store.create_room(Room("here", "Here", created_at=now))
        await store.create_room(Room("elsewhere", "Elsewhere", created_at=now))
        await store.create_room(Room("new", "New", created_at=now))
        await store.add_message(sealed("here", 1, now))  # before the first join here: in its history
        await feed.follow("here")
        await feed.follow("new")  # an empty feed: followed from its first entry
        await store.add_message(sealed("here", 2, now))
        await store.add_message(sealed("new", 1, now))
        await store.add_message(sealed("elsewhere", 1, now))  # never followed: never read
        while await reader.read():
            pass
        assert reader.got == {"here": ["m0002"], "new": ["m0001"]}
        assert set(feed.cursors) == {"here", "new"}

        reader.hosted.discard("new")  # its last socket here left: the next read drops it
        await store.add_message(sealed("new", 2, now))
        await reader.read()
        assert set(feed.cursors) == {"here"}
        assert reader.got["new"] == ["m0001"]
    finally:
        await client.aclose()


async def test_following_a_room_wakes_a_read_already_waiting(redis_server: str) -> None:
    """The blocking read in flight does not name the new room; the wake stream ends it at once."""
    now = time.time_ns() // 1_000_000
    client = connect(redis_server)
    await client.flushdb()
    store = RedisRoomStore(client)
    feed = RedisFeed(client, block_ms=30_000)
    reader = Reader(feed, {"circle"})
    try:
        await store.create_room(Room("circle", "Circle", created_at=now))
        waiting = asyncio.create_task(reader.read())  # follows nothing yet: blocks on its wake stream
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await feed.follow("circle")
        await asyncio.wait_for(waiting, 5)  # not the 30 s block
        await store.add_message(sealed("circle", 1, now))
        assert await asyncio.wait_for(reader.read(), 5) == 1
        assert reader.got == {"circle": ["m0001"]}
        await feed.aclose()
        assert not await client.exists(feed.wake_key)
    finally:
        await client.aclose()


async def test_a_feed_that_restarted_empty_is_read_from_its_start(redis_server: str) -> None:
    """Redis lost its data: the feed's ids start over below our cursor, and are read anyway."""
    now = time.time_ns() // 1_000_000
    client = connect(redis_server)
    await client.flushdb()
    store = RedisRoomStore(client)
    feed = RedisFeed(client, block_ms=50)
    reader = Reader(feed, {"circle"})
    try:
        await store.create_room(Room("circle", "Circle", created_at=now))
        for n in range(3):
            await store.add_message(sealed("circle", n, now))
        await feed.follow("circle")
        feed.cursors["circle"] = f"{now + 10_000_000}-0"  # far ahead, as after a data loss
        await store.add_message(sealed("circle", 3, now))
        await feed._check_cursors()
        while await reader.read():
            pass
        assert reader.got["circle"] == ["m0000", "m0001", "m0002", "m0003"]
    finally:
        await client.aclose()


async def test_a_feed_entry_goes_with_its_message(redis_server: str) -> None:
    now = time.time_ns() // 1_000_000
    client = connect(redis_server)
    await client.flushdb()
    store = RedisRoomStore(client)
    try:
        await store.create_room(Room("circle", "Circle", created_at=now))
        await store.add_message(sealed("circle", 1, now))
        await store.add_message(sealed("circle", 2, now + HOUR))  # lives an hour longer
        assert await client.xlen("hearth:room:circle:feed") == 2
        await store.purge(now_ms=now + HOUR + 10)  # the first has expired
        entries = await client.xrange("hearth:room:circle:feed")
        assert [fields[b"id"] for _, fields in entries] == [b"m0002"]
    finally:
        await client.aclose()
