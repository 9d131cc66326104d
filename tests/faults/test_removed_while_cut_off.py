"""A process cut off from Redis long enough to be reaped must not put a removed member back (issue 14).

Process a holds the target's socket and stops (SIGSTOP: no heartbeat, no pub/sub reads); b reaps a's
sockets, then a facilitator on b removes the target: nobody holds a socket in Redis, so nobody hears a
kick, and `mod:remove` is answered ok. Before: when a came back, its lapsed heartbeat made it put every
socket it held back into presence, the removed member's too, who then stayed in the room.
"""

from __future__ import annotations

import asyncio
import signal

import pytest

from tests.multiproc.conftest import Cluster

pytestmark = pytest.mark.slow

TTL = {"HEARTH_PRESENCE_TTL_S": "2"}


async def test_a_member_removed_while_their_process_was_cut_off_is_taken_out_on_its_return(cluster: Cluster) -> None:
    a, b = cluster.spawn(**TTL), cluster.spawn(**TTL)
    await a.server().room("circle")
    target = await cluster.client(a, (await a.server().session())[0])
    target_id = (await target.join("circle"))["you"]["id"]
    bystander = await cluster.client(a, (await a.server().session())[0])  # also on a: put back as usual
    bystander_id = (await bystander.join("circle"))["you"]["id"]
    fac = await cluster.client(b, await b.server().staff("fran"))
    await fac.join("circle")

    a.proc.send_signal(signal.SIGSTOP)
    try:
        for mid in (target_id, bystander_id):  # b reaped a: its heartbeat lapsed
            await fac.wait_for("member:left", lambda e, m=mid: e["member_id"] == m, timeout=20)
        ack = await fac.call("mod:remove", {"room": "circle", "member": target_id, "ban_s": 600})
        assert ack["ok"], ack
    finally:
        a.proc.send_signal(signal.SIGCONT)

    removed = await target.wait_for("room:removed", timeout=10)
    assert removed["room"] == "circle" and removed["reason"] == "banned"
    assert removed["banned_until"] == ack["banned_until"]
    after = await fac.send("circle", "after the removal")
    assert after["ok"], after
    await bystander.wait_for("message:new", lambda m: m["id"] == after["message"]["id"], timeout=10)
    assert after["message"]["id"] not in [m["id"] for m in target.events["message:new"]]
    assert (await target.send("circle", "still here?"))["error"]["code"] == "not_member"
    for node in (a, b):  # the bystander is back in presence on both processes, the target is not
        probe = await cluster.client(node, (await node.server().session())[0])
        members = {m["id"] for m in (await probe.join("circle"))["members"]}
        assert bystander_id in members and target_id not in members
    await asyncio.sleep(0)
