"""Each room's feed on a real Redis: every stored message reaches every reader once, in order,
across a Redis restart; deleted ones are skipped; new rooms are followed from their start."""

from __future__ import annotations

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
            await f.start(readers[0].deliver, lambda _: True)
            await f.aclose()  # the test drives read_once() itself
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


async def test_a_room_created_later_is_followed_from_its_first_message(redis_server: str) -> None:
    now = time.time_ns() // 1_000_000
    client = connect(redis_server)
    await client.flushdb()
    store = RedisRoomStore(client)
    feed = RedisFeed(client, block_ms=50, refresh_s=0)
    reader = Reader(feed, {"late", "elsewhere"})
    try:
        await feed.start(reader.deliver, lambda _: True)
        await feed.aclose()
        await store.create_room(Room("late", "Late", created_at=now))
        await store.create_room(Room("elsewhere", "Elsewhere", created_at=now))
        await store.add_message(sealed("late", 1, now))
        await store.add_message(sealed("elsewhere", 1, now))
        reader.hosted.discard("elsewhere")  # no socket here: the cursor moves, nothing is fetched
        while await reader.read():
            pass
        assert reader.got == {"late": ["m0001"]}
        assert set(feed.cursors) == {"late", "elsewhere"}
    finally:
        await client.aclose()


async def test_a_feed_that_restarted_empty_is_read_from_its_start(redis_server: str) -> None:
    """Redis lost its data: the feed's ids start over below our cursor, and are read anyway."""
    now = time.time_ns() // 1_000_000
    client = connect(redis_server)
    await client.flushdb()
    store = RedisRoomStore(client)
    feed = RedisFeed(client, block_ms=50, refresh_s=3600)
    reader = Reader(feed, {"circle"})
    try:
        await store.create_room(Room("circle", "Circle", created_at=now))
        for n in range(3):
            await store.add_message(sealed("circle", n, now))
        await feed.start(reader.deliver, lambda _: True)
        await feed.aclose()
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
