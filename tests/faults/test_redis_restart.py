"""Redis restarted during traffic on two processes: count, per connected member, the messages acked
`ok` against the messages received. Before: 111-145 acked messages never reached members who stayed
connected (pub/sub was resubscribing and nothing replayed)."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.traffic import start_traffic
from tests.multiproc.conftest import Cluster

pytestmark = pytest.mark.slow

RECEIVERS_PER_PROCESS = 5


async def test_every_acked_message_reaches_every_member_once_in_order(cluster: Cluster) -> None:
    a, b = cluster.spawn(), cluster.spawn()
    traffic = await start_traffic(cluster, a, b, receivers_per_process=RECEIVERS_PER_PROCESS)
    await asyncio.sleep(1.5)
    cluster.redis.stop()
    await asyncio.sleep(3)
    before_restart = len(traffic.acked["a"])
    cluster.redis.start()
    back = asyncio.get_running_loop().time()
    watch = asyncio.create_task(traffic.first_delivery_after(before_restart, back, timeout=10))
    await asyncio.sleep(3)
    await traffic.finish()
    # Measured, not asserted (no wall-clock asserts): printed with `pytest -s`.
    print(
        f"\nrestart: {len(traffic.refused)} sends refused while Redis was down, slowest answer "
        f"{max(traffic.refused):.3f} s; the first message acked after Redis returned reached process b "
        f"{await watch:.3f} s after its return"
    )

    assert traffic.refused, "the outage was not noticed by any send"
    assert len(traffic.acked["a"]) > 10 and len(traffic.acked["b"]) > 10
    await traffic.assert_every_acked_message_arrived_once_in_order(within_s=2)
    assert all(c.sio.connected for c in traffic.members)
