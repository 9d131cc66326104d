"""Rules 24, 26, 27 and staff token revocation across two real `hearth` processes on a private redis-server."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

from tests.conftest import Client, http
from tests.multiproc.conftest import Cluster, Hearth

HOME = "203.0.113.7"
LIMITS_ON = {"HEARTH_IP_LIMITS": "on", "HEARTH_TRUSTED_PROXIES": "127.0.0.1/32"}


async def _client(cluster: Cluster, node: Hearth, token: str, address: str) -> Client:
    sio = socketio.AsyncClient(reconnection=False)
    client = Client(sio)

    @sio.on("*")
    async def any_event(event: str, data: Any = None) -> None:
        client._record(event, data)

    cluster.clients.append(client)
    await sio.connect(
        node.url, auth={"token": token}, headers={"X-Forwarded-For": address}, transports=["websocket"], wait_timeout=5
    )
    return client


async def _setup(cluster: Cluster, **room: Any) -> tuple[Hearth, Hearth]:
    a, b = cluster.spawn(**LIMITS_ON), cluster.spawn(**LIMITS_ON)
    await a.server().room("circle", **room)
    return a, b


async def test_admission_decided_on_a_holds_on_b(cluster: Cluster) -> None:
    a, b = await _setup(cluster, admission="approval")
    fac = await _client(cluster, a, await a.server().staff("fran"), "192.0.2.1")
    await fac.join("circle")
    token, _ = await b.server().session("Quiet Heron")
    peer = await _client(cluster, b, token, "198.51.100.3")
    assert (await peer.call("room:join", {"room": "circle"}))["error"]["code"] == "waiting"
    waiting = await fac.wait_for("member:waiting")
    assert (await fac.call("mod:admit", {"room": "circle", "member": waiting["member"]["id"]}))["ok"]
    await peer.wait_for("room:admitted")
    assert (await peer.join("circle"))["you"]["id"] == waiting["member"]["id"]
    # Admission is in the store: a socket of the same identity on A joins at once.
    again = await _client(cluster, a, token, "198.51.100.3")
    assert (await again.call("room:join", {"room": "circle"}))["ok"]


async def test_returning_signal_set_on_a_fires_on_b(cluster: Cluster) -> None:
    a, b = await _setup(cluster)
    fac_b = await _client(cluster, b, await b.server().staff("fran"), "192.0.2.1")
    await fac_b.join("circle")
    token, _ = await a.server().session("Stormy Sea")
    banned = await _client(cluster, a, token, HOME)  # the sanctioned member's socket is on A
    member_id = (await banned.join("circle"))["you"]["id"]
    ack = await fac_b.call("mod:remove", {"room": "circle", "member": member_id, "ban_s": 3600})
    assert ack["ok"]
    await banned.wait_for("room:removed")
    # mod:remove answers once every process holding the member's sockets has kicked them, and a
    # process marks their addresses before it answers: the mark made on A is in place now.
    new_token, _ = await b.server().session("Brand New")
    returning = await _client(cluster, b, new_token, HOME)
    joined = await returning.join("circle")
    assert joined["mute"] == {"until": ack["banned_until"], "reason": "returning"}
    alert = await fac_b.wait_for("mod:alert", lambda p: p["kind"] == "returning")
    assert alert["related_member"] == member_id


async def test_namesakes_on_different_processes_get_different_numbers(cluster: Cluster) -> None:
    a, b = await _setup(cluster)
    clients = []
    for n in range(6):
        node = a if n % 2 else b
        token, _ = await node.server().session("Calm River")
        clients.append(await _client(cluster, node, token, f"198.51.100.{n + 10}"))
    acks = await asyncio.gather(*(c.call("room:join", {"room": "circle"}) for c in clients))
    names = sorted(ack["you"]["pseudonym"] for ack in acks)
    assert names == sorted(["Calm River", *(f"Calm River {n}" for n in range(2, 7))])


async def test_password_change_on_a_revokes_tokens_on_b(cluster: Cluster) -> None:
    a, b = await _setup(cluster)
    token = await a.server().staff("fran")
    on_b = await _client(cluster, b, token, "192.0.2.1")
    gone = asyncio.Event()
    on_b.sio.on("disconnect", lambda *_: gone.set())
    admin = await a.server().login()
    status, _ = await a.server().patch("/api/admin/staff/fran", {"password": "a-new-password"}, admin)
    assert status == 200
    await asyncio.wait_for(gone.wait(), 10)
    status, body = await http(b.url, "GET", "/api/rooms", None, token)
    assert status == 401 and body["error"]["code"] == "unauthorized"
