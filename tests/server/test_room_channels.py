"""Over Redis, each Socket.IO room has its own pub/sub channel, heard only by the processes hosting it.

The join path relies on one promise of ``DirectRedisManager.enter_room``: when it returns,
Redis has already confirmed this process's subscription to the room's channel, so whatever
another process publishes to the room after the join's ack reaches the new member. Checked
here against the in-process server and a real redis-server: the channel's subscriber count is
read on a connection opened beforehand, with no wait between ``enter_room`` and the read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from server.http_api import REALTIME
from server.transport.pubsub import DirectRedisManager
from tests.conftest import Connect, Server

pytestmark = pytest.mark.parametrize("store_kind", ["redis"])

NS = "/"


@pytest.fixture
async def spy(redis_server: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server)
    await client.ping()  # connected before the test starts: reading the count sends at once
    yield client
    await client.aclose()


async def subscribers(spy: aioredis.Redis, channel: str) -> int:
    ((_, count),) = await spy.pubsub_numsub(channel)
    return int(count)


async def test_enter_room_returns_once_redis_has_confirmed_the_rooms_channel(
    server: Server, connect: Connect, spy: aioredis.Redis
) -> None:
    client = await connect((await server.session())[0])
    manager = server.app[REALTIME].conns.sio.manager
    assert isinstance(manager, DirectRedisManager)
    sid = next(iter(manager.rooms[NS][None]))
    assert client.sio.connected

    for n in range(5):
        room = f"r:probe-{n}"
        await manager.enter_room(sid, NS, room)
        assert await subscribers(spy, f"hearth-socketio:{room}") == 1
        await manager.leave_room(sid, NS, room)  # the last local socket: the process stops hearing it

    # unsubscribed from all five, and a socket id (no ':') never gets a channel of its own
    deadline = asyncio.get_running_loop().time() + 5
    while channels := await spy.pubsub_channels("hearth-socketio:*"):
        assert asyncio.get_running_loop().time() < deadline, channels
        await asyncio.sleep(0.02)


async def test_a_rooms_channel_carries_only_emits_to_that_room(server: Server, connect: Connect) -> None:
    await connect((await server.session())[0])
    manager = server.app[REALTIME].conns.sio.manager
    assert isinstance(manager, DirectRedisManager)
    assert manager.channel_for({"method": "emit", "room": "r:circle"}) == "hearth-socketio:r:circle"
    assert manager.channel_for({"method": "emit", "room": "s:circle"}) == "hearth-socketio:s:circle"
    assert manager.channel_for({"method": "emit", "room": "AbCdEf0123456789xyzA"}) == "hearth-socketio"  # a sid
    assert manager.channel_for({"method": "emit", "room": None}) == "hearth-socketio"  # everyone
    assert manager.channel_for({"method": "emit", "room": "admins"}) == "hearth-socketio"
    assert manager.channel_for({"method": "close_room", "room": "r:circle"}) == "hearth-socketio"
    assert manager.channel_for({"method": "leave_room", "room": "r:circle", "sid": "x"}) == "hearth-socketio"
