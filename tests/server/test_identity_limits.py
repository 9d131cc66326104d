"""Per-identity limits over the wire, on a server whose clock only moves when the test moves it:
the send limit holds across many sockets sending at once, joins and history bytes are bounded."""

from __future__ import annotations

import asyncio

import pytest

from rooms.clock import ManualClock
from rooms.limits import TokenBucket
from rooms.service import JOIN_BURST, JOIN_REFILL_MS
from server.http_api import SERVICES
from tests.conftest import Connect, Server


@pytest.fixture
def server(clocked_server: Server) -> Server:
    """Every test here runs on a server whose clock only moves when a test moves it."""
    return clocked_server


async def test_send_limit_is_per_identity_across_concurrent_sockets(server: Server, connect: Connect) -> None:
    await server.room("circle")
    token, _ = await server.session()
    sockets = [await connect(token) for _ in range(12)]
    for s in sockets:
        await s.join("circle")
    acks = await asyncio.gather(*(s.send("circle", f"m{i}") for i, s in enumerate(sockets) for _ in range(2)))
    codes = sorted("ok" if a["ok"] else a["error"]["code"] for a in acks)
    assert codes.count("ok") == 5 and codes.count("rate_limited") == 19, codes  # burst of 5, not 5 per socket


async def test_refused_sends_give_their_token_back(server: Server, connect: Connect) -> None:
    await server.room("circle")
    admin = await server.login()
    token, _ = await server.session()
    peer = await connect(token)
    await peer.join("circle")
    status, _ = await server.patch("/api/rooms/circle", {"locked": True}, admin)
    assert status == 200
    for _ in range(8):
        assert (await peer.send("circle", "locked out"))["error"]["code"] == "room_locked"
    await server.patch("/api/rooms/circle", {"locked": False}, admin)
    assert all([(await peer.send("circle", f"m{i}"))["ok"] for i in range(5)])


async def test_joins_are_limited_per_identity(server: Server, connect: Connect, clock: ManualClock) -> None:
    await server.room("circle")
    token, _ = await server.session()
    a, b = await connect(token), await connect(token)
    for i in range(JOIN_BURST):
        assert (await (a if i % 2 else b).call("room:join", {"room": "circle"}))["ok"]
    refused = await a.call("room:join", {"room": "circle"})
    assert refused["error"]["code"] == "rate_limited" and refused["error"]["retry_after_ms"] == JOIN_REFILL_MS
    assert (await b.call("room:join", {"room": "circle"}))["error"]["code"] == "rate_limited"  # same identity
    other = await connect((await server.session())[0])
    assert (await other.call("room:join", {"room": "circle"}))["ok"]  # another identity is not affected
    staff = await connect(await server.staff("fran"))
    for _ in range(JOIN_BURST + 5):
        assert (await staff.call("room:join", {"room": "circle"}))["ok"]  # staff are exempt
    for _ in range(5):  # joins refused for other reasons do not use the allowance up
        assert (await other.call("room:join", {"room": "nowhere"}))["error"]["code"] == "not_found"
    clock.advance(JOIN_REFILL_MS)
    assert (await a.call("room:join", {"room": "circle"}))["ok"]


async def test_history_bytes_are_limited_per_identity(server: Server, connect: Connect, clock: ManualClock) -> None:
    rooms = server.app[SERVICES].rooms
    rooms.history_limiter = TokenBucket(clock, burst=64, refill_ms=10)  # 64 KiB, then 100 KiB/s
    await server.room("circle")
    await server.room("empty")
    fac = await connect(await server.staff("fran"))
    await fac.join("circle")
    for i in range(20):
        assert (await fac.send("circle", f"{i:02d}" + "x" * 1998))["ok"]  # about 40 KiB of history
    peer = await connect((await server.session())[0])
    assert len((await peer.join("circle"))["history"]) == 20
    refused = await peer.call("room:join", {"room": "circle"})
    assert refused["error"]["code"] == "rate_limited" and refused["error"]["retry_after_ms"] > 0
    assert (await peer.call("room:join", {"room": "empty"}))["ok"]  # no history, no cost
    clock.advance(refused["error"]["retry_after_ms"])
    assert len((await peer.join("circle"))["history"]) == 20
