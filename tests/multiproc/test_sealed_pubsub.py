"""Nothing forged over Redis: fake and replayed pub/sub messages are dropped and counted, and
nothing a person typed or chose travels there in clear."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

from tests.conftest import http
from tests.multiproc.conftest import Cluster

CHANNELS = ("hearth-socketio", "hearth:control")
ROOM_CHANNELS = "hearth-socketio:*"  # one per Socket.IO room: hearth-socketio:r:circle ...


async def rejected(url: str) -> float:
    status, text = await http(url, "GET", "/metrics")
    assert status == 200
    total = 0.0
    for line in str(text).splitlines():
        if line.startswith("hearth_pubsub_rejected_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_forged_and_replayed_messages_are_dropped_and_counted(cluster: Cluster) -> None:
    a, b = cluster.spawn(), cluster.spawn()
    await a.server().room("circle")
    fran = await cluster.client(b, await b.server().staff("fran"))
    peer = await cluster.client(a, (await a.server().session("Marker Otter"))[0])
    await peer.join("circle")
    await fran.join("circle")

    spy = aioredis.Redis.from_url(cluster.redis.url)
    captured: list[bytes] = []
    room_captured: list[tuple[bytes, bytes]] = []  # (channel, data)
    pubsub = spy.pubsub()
    await pubsub.subscribe(*CHANNELS)
    await pubsub.psubscribe(ROOM_CHANNELS)

    async def capture() -> None:
        async for item in pubsub.listen():
            if item["type"] == "message":
                captured.append(item["data"])
            elif item["type"] == "pmessage":
                captured.append(item["data"])
                room_captured.append((item["channel"], item["data"]))

    listener = asyncio.create_task(capture())
    try:
        # genuine traffic: a join (pseudonym), a mute (reason), a message (text)
        other = await cluster.client(b, (await b.server().session("Quiet Heron"))[0])
        other_id = (await other.join("circle"))["you"]["id"]
        await peer.wait_for("member:joined")
        mute = {"room": "circle", "member": other_id, "reason": "Marker reason"}
        assert (await fran.call("mod:mute", mute))["ok"]
        assert (await other.send("circle", "Marker text"))["error"]["code"] == "muted"
        assert (await fran.send("circle", "Marker words"))["ok"]
        await peer.wait_for("message:new", lambda m: m["text"] == "Marker words")
        await peer.wait_for("member:muted")
        await asyncio.sleep(0.2)
        assert captured, "nothing travelled over pub/sub"
        assert room_captured, "nothing travelled on a room's channel"
        assert {channel for channel, _ in room_captured} <= {b"hearth-socketio:r:circle", b"hearth-socketio:s:circle"}
        assert not any(b"Marker" in c or b"Quiet Heron" in c for c in captured)

        before = await rejected(a.url) + await rejected(b.url)
        # forged: what python-socketio itself would publish, and a control message
        fake = b'{"method":"emit","event":"message:new","data":{"text":"forged"},"namespace":"/","room":"r:circle"}'
        await spy.publish("hearth-socketio", fake)
        await spy.publish("hearth-socketio:r:circle", fake)
        await spy.publish("hearth:control", b'{"op":"staff_removed","staff_id":"anyone"}')
        # replayed: a genuine sealed message, published again (both processes host circle)
        for c in captured[:3]:
            await spy.publish("hearth-socketio", c)
            await spy.publish("hearth:control", c)
        for channel, c in room_captured[:2]:
            await spy.publish(channel, c)
        await asyncio.sleep(0.5)
        after = await rejected(a.url) + await rejected(b.url)
        assert after - before >= 2 * (3 + 6 + 2)  # every bad message refused by both processes
        assert all(m.get("text") != "forged" for m in peer.events["message:new"])
        assert fran.sio.connected and peer.sio.connected
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await pubsub.aclose()
        await spy.aclose()
