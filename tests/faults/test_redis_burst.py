"""Bursts on Redis: 200 sockets joining at once, then closing at once. Before: joins got
`unavailable` (redis-py's pool raised when exhausted), closes logged hundreds of
`presence_cleanup_failed` and those members stayed online with no `member:left`."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Client
from tests.multiproc.conftest import Cluster

pytestmark = pytest.mark.slow

SOCKETS = 200


async def test_two_hundred_sockets_join_at_once_and_close_at_once(cluster: Cluster) -> None:
    # A small pool, so the burst is many times its size.
    a = cluster.spawn(HEARTH_REDIS_POOL_SIZE="10")
    b = cluster.spawn()
    await a.server().room("circle")
    watcher = await cluster.client(b, (await b.server().session())[0])
    await watcher.join("circle")
    tokens = [(await a.server().session())[0] for _ in range(SOCKETS)]
    clients: list[Client] = list(await asyncio.gather(*(cluster.client(a, t) for t in tokens)))

    acks = await asyncio.gather(*(c.call("room:join", {"room": "circle"}, timeout=90) for c in clients))
    assert [ack.get("error", {}).get("code") for ack in acks if not ack["ok"]] == []
    joined = {ack["you"]["id"] for ack in acks}
    assert len(joined) == SOCKETS

    await asyncio.gather(*(c.sio.disconnect() for c in clients))
    for member_id in joined:
        await watcher.wait_for("member:left", lambda e, m=member_id: e["member_id"] == m, timeout=30)
    assert len(watcher.events["member:left"]) == SOCKETS  # each once
    probe = await cluster.client(b, (await b.server().session())[0])
    online = {m["id"] for m in (await probe.join("circle"))["members"]}
    assert not joined & online  # nobody left behind in Redis
    log = a.log.read_text()
    assert "presence_cleanup_failed" not in log and "code=unavailable" not in log
