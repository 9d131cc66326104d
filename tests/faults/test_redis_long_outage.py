"""Redis down for 60 s during traffic on two processes (issue 14, points 1 and 2): sends during the outage
are refused `unavailable`; afterwards every message acked `ok` reaches every member who stayed connected,
once and in order, and nobody is reported as left, not even after a presence TTL and a reap."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.traffic import start_traffic
from tests.multiproc.conftest import Cluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

RECEIVERS_PER_PROCESS = 5
OUTAGE_S = 60
TTL_AND_REAP_S = 15 + 5 + 2  # the default presence TTL, a reap interval and a margin


async def test_a_60_s_outage_loses_nothing_acked_and_reaps_nobody(cluster: Cluster) -> None:
    a, b = cluster.spawn(), cluster.spawn()
    traffic = await start_traffic(cluster, a, b, receivers_per_process=RECEIVERS_PER_PROCESS)
    acked, refused = traffic.acked, traffic.refused
    await asyncio.sleep(1.5)
    cluster.redis.stop()
    await asyncio.sleep(2)  # sends in flight when Redis went away have been answered
    during = (len(acked["a"]), len(acked["b"]), len(refused))
    await asyncio.sleep(OUTAGE_S - 2)
    assert (len(acked["a"]), len(acked["b"])) == during[:2], "a send was acked ok while Redis was down"
    assert len(refused) > during[2], "sends during the outage were not refused"
    before_return = len(acked["a"])
    cluster.redis.start()
    back = asyncio.get_running_loop().time()
    watch = asyncio.create_task(traffic.first_delivery_after(before_return, back, timeout=30))
    await asyncio.sleep(3)
    await traffic.finish()
    # Measured, not asserted (no wall-clock asserts): printed with `pytest -s`.
    print(
        f"\n{OUTAGE_S} s outage: {len(refused)} sends refused while Redis was down, slowest answer "
        f"{max(refused):.3f} s; the first message acked after Redis returned reached process b "
        f"{await watch:.3f} s after its return"
    )

    assert len(acked["a"]) > before_return and len(acked["b"]) > during[1], "no send succeeded after the outage"
    await traffic.assert_every_acked_message_arrived_once_in_order(within_s=5)

    # Both processes were out of touch for four TTLs: neither may reap the other's members.
    await asyncio.sleep(TTL_AND_REAP_S)
    for c in traffic.members:
        assert c.sio.connected
        assert c.events["member:left"] == [], "a member who stayed connected was reported as left"
    for n, node in enumerate((a, b), start=1):  # each probe counts itself and the probes before it
        probe = await cluster.client(node, (await node.server().session())[0])
        online = (await probe.join("circle"))["room"]["members"]
        assert online == len(traffic.members) + n
