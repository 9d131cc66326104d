"""What each process receives from Redis is counted on /metrics, by kind: a message in a room
hosted only on A has its body fetched by A alone, though B reads its feed entry and hears the
room's other broadcasts (``hearth_feed_*``, ``hearth_pubsub_received_*``)."""

from __future__ import annotations

import asyncio
import time

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
PUB_FOREIGN = 'hearth_pubsub_received_total{kind="foreign"}'
PUB_FOREIGN_BYTES = 'hearth_pubsub_received_bytes_total{kind="foreign"}'


async def test_only_the_hosting_process_fetches_a_rooms_message_bodies(cluster: Cluster) -> None:
    a, b = cluster.spawn(), cluster.spawn()
    await a.server().room("circle")
    peer = await cluster.client(a, (await a.server().session("River Otter"))[0])
    await peer.join("circle")
    # B has a socket (its listener starts with its first connection) but none in the room
    await cluster.client(b, (await b.server().session("Still Pond"))[0])
    before_a, before_b = await counters(a), await counters(b)

    other = await cluster.client(a, (await a.server().session("Calm Lake"))[0])
    await other.join("circle")  # member:joined: published by A, heard back by A, heard for nothing by B
    await peer.wait_for("member:joined")
    sent = (await peer.send("circle", "hosted on A only"))["message"]
    await other.wait_for("message:new", lambda m: m["id"] == sent["id"])

    after_a = await until(a, BODIES, before_a.get(BODIES, 0.0))
    after_b = await until(b, FOREIGN, before_b.get(FOREIGN, 0.0))  # B has read the entry, as an id
    assert after_a[BODIES] == before_a.get(BODIES, 0.0) + 1
    assert after_a[HOSTED] == before_a.get(HOSTED, 0.0) + 1
    assert after_a.get(FOREIGN, 0.0) == before_a.get(FOREIGN, 0.0)
    assert after_b.get(BODIES, 0.0) == before_b.get(BODIES, 0.0)
    assert after_b.get(HOSTED, 0.0) == before_b.get(HOSTED, 0.0)
    assert after_b[FOREIGN] == before_b.get(FOREIGN, 0.0) + 1

    after_a = await until(a, PUB_OWN, before_a.get(PUB_OWN, 0.0))
    after_b = await until(b, PUB_FOREIGN, before_b.get(PUB_FOREIGN, 0.0))
    assert after_b[PUB_FOREIGN_BYTES] > before_b.get(PUB_FOREIGN_BYTES, 0.0)
