"""What each process receives from Redis, counted on /metrics by kind: a message in a room
hosted only on A is read from the room's feed and fetched by A alone; the room's other
broadcasts travel on the room's own channel, which only the processes hosting it hear
(``hearth_feed_*``, ``hearth_pubsub_received_*``), and a process drops its own echoes unopened."""

from __future__ import annotations

import asyncio
import time

import redis.asyncio as aioredis

from tests.conftest import http
from tests.multiproc.conftest import Cluster, Hearth

WAIT_S = 10


async def counters(node: Hearth) -> dict[str, float]:
    status, text = await http(node.url, "GET", "/metrics")
    assert status == 200
    out: dict[str, float] = {}
    for line in str(text).splitlines():
        if line.startswith(("hearth_feed_", "hearth_pubsub_received")):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


async def until(node: Hearth, name: str, above: float) -> dict[str, float]:
    """The node's counters once ``name`` exceeds ``above`` (it fails after WAIT_S)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        now = await counters(node)
        if now.get(name, 0.0) > above:
            return now
        assert time.monotonic() < deadline, f"{name} stayed at {now.get(name, 0.0)} on {node.url}"
        await asyncio.sleep(0.05)


BODIES = "hearth_feed_bodies_fetched_total"
HOSTED = 'hearth_feed_entries_read_total{kind="hosted"}'
FOREIGN = 'hearth_feed_entries_read_total{kind="foreign"}'
PUB_OWN = 'hearth_pubsub_received_total{kind="own"}'
PUB_HOSTED = 'hearth_pubsub_received_total{kind="hosted"}'
PUB_FOREIGN = 'hearth_pubsub_received_total{kind="foreign"}'
PUB_REJECTED = 'hearth_pubsub_received_total{kind="rejected"}'
PUB_ALL = (PUB_OWN, PUB_HOSTED, PUB_FOREIGN, PUB_REJECTED)
ROOM_CHANNEL = "hearth-socketio:r:circle"  # the Socket.IO room r:circle's own channel


def heard(counts: dict[str, float]) -> float:
    """Every pub/sub message the process received, whatever its kind."""
    return sum(counts.get(name, 0.0) for name in PUB_ALL)


async def subscribers(url: str, channel: str) -> int:
    spy = aioredis.Redis.from_url(url)
    try:
        ((_, count),) = await spy.pubsub_numsub(channel)
        return int(count)
    finally:
        await spy.aclose()


async def test_only_the_hosting_process_reads_a_rooms_feed_and_channel(cluster: Cluster) -> None:
    a, b = cluster.spawn(), cluster.spawn()
    await a.server().room("circle")
    peer = await cluster.client(a, (await a.server().session("River Otter"))[0])
    await peer.join("circle")
    # B has a socket (its listener starts with its first connection) but none in the room
    await cluster.client(b, (await b.server().session("Still Pond"))[0])
    before_a, before_b = await counters(a), await counters(b)

    other = await cluster.client(a, (await a.server().session("Calm Lake"))[0])
    await other.join("circle")  # member:joined: on the room's channel, heard back by A alone
    await peer.wait_for("member:joined")
    sent = (await peer.send("circle", "hosted on A only"))["message"]
    await other.wait_for("message:new", lambda m: m["id"] == sent["id"])

    after_a = await until(a, BODIES, before_a.get(BODIES, 0.0))
    assert after_a[BODIES] == before_a.get(BODIES, 0.0) + 1
    assert after_a[HOSTED] == before_a.get(HOSTED, 0.0) + 1
    assert after_a.get(FOREIGN, 0.0) == before_a.get(FOREIGN, 0.0)
    await asyncio.sleep(0.3)  # time enough for B to have read the entry, had it followed the feed
    after_b = await counters(b)
    for name in (BODIES, HOSTED, FOREIGN):  # B follows no feed of a room it does not host
        assert after_b.get(name, 0.0) == before_b.get(name, 0.0), name

    after_a = await until(a, PUB_OWN, before_a.get(PUB_OWN, 0.0))  # its echo, dropped unopened
    assert after_a.get(PUB_REJECTED, 0.0) == before_a.get(PUB_REJECTED, 0.0)
    await asyncio.sleep(0.3)  # time enough for B to have heard it, had it been sent there
    assert heard(await counters(b)) == heard(before_b)  # B hosts nothing in circle: it heard nothing


async def test_a_process_hears_a_room_from_its_first_join_to_its_last_leave(cluster: Cluster) -> None:
    a, b = cluster.spawn(), cluster.spawn()
    await a.server().room("circle")
    peer = await cluster.client(a, (await a.server().session("River Otter"))[0])
    await peer.join("circle")
    assert await subscribers(cluster.redis.url, ROOM_CHANNEL) == 1  # A, confirmed before the join's ack

    guest = await cluster.client(b, (await b.server().session("Still Pond"))[0])
    await guest.join("circle")
    # B's subscription was confirmed by Redis before B acked the join: no waiting here
    assert await subscribers(cluster.redis.url, ROOM_CHANNEL) == 2
    before_b = await counters(b)
    assert (await peer.call("typing", {"room": "circle"}))["ok"]
    await guest.wait_for("member:typing")
    after_b = await until(b, PUB_HOSTED, before_b.get(PUB_HOSTED, 0.0))
    assert after_b[PUB_HOSTED] == before_b.get(PUB_HOSTED, 0.0) + 1

    await guest.sio.disconnect()  # B's last socket in circle: B stops hearing it
    deadline = time.monotonic() + WAIT_S
    while await subscribers(cluster.redis.url, ROOM_CHANNEL) != 1:
        assert time.monotonic() < deadline, "B still subscribed to a room it no longer hosts"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # B's member:left and presence work settle
    before_b = await counters(b)
    other = await cluster.client(a, (await a.server().session("Calm Lake"))[0])
    other_id = (await other.join("circle"))["you"]["id"]
    await peer.wait_for("member:joined", lambda m: m["member"]["id"] == other_id)
    await asyncio.sleep(0.3)
    assert heard(await counters(b)) == heard(before_b)
