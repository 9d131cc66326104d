"""Redis down longer than the presence TTL, with members connected on two processes.

Before: 133 of 200 members were reported as left while they stayed connected, and
`mod:remove` afterwards answered ok but removed nobody.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Client
from tests.multiproc.conftest import Cluster

pytestmark = pytest.mark.slow

MEMBERS_PER_PROCESS = 20
OUTAGE_S = 17  # longer than the default presence TTL (15 s)


async def test_nobody_is_reaped_by_an_outage_and_removal_works_after(cluster: Cluster) -> None:
    a, b = cluster.spawn(), cluster.spawn()
    await a.server().room("circle")
    watcher = await cluster.client(a, (await a.server().session())[0])
    await watcher.join("circle")
    members: list[tuple[Client, str]] = []
    for node in (a, b):
        for _ in range(MEMBERS_PER_PROCESS):
            c = await cluster.client(node, (await node.server().session())[0])
            members.append((c, (await c.join("circle"))["you"]["id"]))
    leaver, leaver_id = members.pop()  # will close its socket during the outage
    fac = await cluster.client(b, await b.server().staff("fran"))
    await fac.join("circle")

    cluster.redis.stop()
    await asyncio.sleep(OUTAGE_S / 2)
    await leaver.sio.disconnect()
    await asyncio.sleep(OUTAGE_S / 2)
    cluster.redis.start()

    # The leaver is reported once Redis is back; nobody else, not even after TTL and reaping.
    left = await watcher.wait_for("member:left", lambda e: e["member_id"] == leaver_id, timeout=15)
    assert left["reason"] == "disconnected"
    await asyncio.sleep(15 + 5 + 2)  # a whole TTL, a reap interval and a margin
    assert [e["member_id"] for e in watcher.events["member:left"]] == [leaver_id]
    assert all(c.sio.connected for c, _ in members)
    for node in (a, b):
        probe = await cluster.client(node, (await node.server().session())[0])
        online = {m["id"] for m in (await probe.join("circle"))["members"]}
        assert {mid for _, mid in members} <= online and leaver_id not in online

    # A removal after the outage reaches the member on the other process.
    target, target_id = members[0]  # on a; the facilitator is on b
    ack = await fac.call("mod:remove", {"room": "circle", "member": target_id})
    assert ack["ok"], ack
    await target.wait_for("room:removed")
    await watcher.wait_for("member:left", lambda e: e["member_id"] == target_id and e["reason"] == "removed")
    assert (await target.send("circle", "still here?"))["error"]["code"] == "not_member"


async def test_a_removal_while_redis_is_down_is_not_answered_ok(cluster: Cluster) -> None:
    a, b = cluster.spawn(), cluster.spawn()
    await a.server().room("circle")
    target = await cluster.client(a, (await a.server().session())[0])
    target_id = (await target.join("circle"))["you"]["id"]
    fac = await cluster.client(b, await b.server().staff("fran"))
    await fac.join("circle")
    cluster.redis.stop()
    try:
        ack = await fac.call("mod:remove", {"room": "circle", "member": target_id}, timeout=15)
        assert ack["ok"] is False and ack["error"]["code"] == "unavailable"
    finally:
        cluster.redis.start()
    assert "room:removed" not in target.events
