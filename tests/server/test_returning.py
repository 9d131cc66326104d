"""Rule 26 over the wire: a sanctioned member coming back as a new identity from the same address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio

from server.config import Config
from tests.conftest import Client, Server, start_server


@pytest.fixture
async def proxied(config: Config) -> AsyncIterator[Server]:
    """Limits on (the signal is off with them), and X-Forwarded-For from the test client trusted."""
    srv = await start_server(config.replace(ip_limits=True, trusted_proxies=("127.0.0.1/32",)))
    yield srv
    await srv.runner.cleanup()


@pytest.fixture
async def from_address(proxied: Server) -> AsyncIterator[Any]:
    clients: list[Client] = []

    async def _connect(token: str, address: str) -> Client:
        sio = socketio.AsyncClient(reconnection=False)
        client = Client(sio)

        @sio.on("*")
        async def any_event(event: str, data: Any = None) -> None:
            client._record(event, data)

        clients.append(client)
        await sio.connect(
            proxied.url,
            auth={"token": token},
            headers={"X-Forwarded-For": address},
            transports=["websocket"],
            wait_timeout=5,
        )
        return client

    yield _connect
    for client in clients:
        if client.sio.connected:
            await client.sio.disconnect()


HOME, ELSEWHERE = "203.0.113.7", "198.51.100.20"


async def _setup(proxied: Server, from_address: Any) -> tuple[Client, Client, str]:
    await proxied.room("circle")
    fac = await from_address(await proxied.staff("fran"), "192.0.2.1")
    await fac.join("circle")
    token, _ = await proxied.session("Stormy Sea")
    first = await from_address(token, HOME)
    member_id = (await first.join("circle"))["you"]["id"]
    return fac, first, member_id


async def test_banned_member_returning_joins_muted_and_staff_are_alerted(proxied: Server, from_address: Any) -> None:
    fac, first, member_id = await _setup(proxied, from_address)
    admin = await from_address(await proxied.login(), "192.0.2.2")
    bystander = await from_address((await proxied.session("Calm River"))[0], ELSEWHERE)
    await bystander.join("circle")
    ack = await fac.call("mod:remove", {"room": "circle", "member": member_id, "ban_s": 3600, "reason": "abuse"})
    assert ack["ok"]
    await first.wait_for("room:removed")

    token, _ = await proxied.session("Brand New")
    again = await from_address(token, HOME)
    joined = await again.join("circle")  # joins and reads normally
    assert joined["you"]["id"] != member_id
    assert joined["mute"] == {"until": ack["banned_until"], "reason": "returning"}
    alert = await fac.wait_for("mod:alert", lambda a: a["kind"] == "returning")
    assert alert["room"] == "circle" and alert["related_member"] == member_id
    assert alert["member"]["id"] == joined["you"]["id"] and isinstance(alert["ts"], int) and alert["id"]
    await admin.wait_for("mod:alert", lambda a: a["related_member"] == member_id)
    send = await again.send("circle", "I'm back")
    assert send["error"]["code"] == "muted"
    assert send["error"]["reason"] == "returning" and send["error"]["until"] == ack["banned_until"]
    # The room is not told.
    marker = await fac.send("circle", "marker")
    await bystander.wait_for("message:new", lambda m: m["id"] == marker["message"]["id"])
    assert bystander.events["mod:alert"] == []
    assert [m for m in bystander.events["member:muted"] if m["member_id"] == joined["you"]["id"]] == []


async def test_endless_mute_returning_gets_null_until(proxied: Server, from_address: Any) -> None:
    fac, first, member_id = await _setup(proxied, from_address)
    assert (await fac.call("mod:mute", {"room": "circle", "member": member_id}))["ok"]
    again = await from_address((await proxied.session("Other Name"))[0], HOME)
    joined = await again.join("circle")
    assert joined["mute"] == {"until": None, "reason": "returning"}
    send = await again.send("circle", "hi")
    assert send["error"] == {**send["error"], "code": "muted", "until": None, "reason": "returning"}


async def test_a_different_network_is_not_caught(proxied: Server, from_address: Any) -> None:
    fac, _, member_id = await _setup(proxied, from_address)
    assert (await fac.call("mod:remove", {"room": "circle", "member": member_id, "ban_s": 3600}))["ok"]
    other = await from_address((await proxied.session("Brand New"))[0], ELSEWHERE)
    joined = await other.join("circle")
    assert joined["mute"] is None
    assert (await other.send("circle", "hello"))["ok"]
    assert fac.events["mod:alert"] == []


async def test_unmute_lifts_it_and_lifting_the_original_does_not(proxied: Server, from_address: Any) -> None:
    fac, first, member_id = await _setup(proxied, from_address)
    assert (await fac.call("mod:mute", {"room": "circle", "member": member_id, "duration_s": 600}))["ok"]
    again = await from_address((await proxied.session("Brand New"))[0], HOME)
    new_id = (await again.join("circle"))["you"]["id"]
    assert (await fac.call("mod:unmute", {"room": "circle", "member": member_id}))["ok"]
    assert (await again.send("circle", "still muted"))["error"]["reason"] == "returning"
    assert (await fac.call("mod:unmute", {"room": "circle", "member": new_id}))["ok"]
    assert (await again.send("circle", "free now"))["ok"]


async def test_signal_is_off_without_ip_limits(config: Config) -> None:
    srv = await start_server(config.replace(ip_limits=False, trusted_proxies=("127.0.0.1/32",)))
    try:
        assert srv.app is not None
        from server.http_api import SERVICES

        assert srv.app[SERVICES].returning.enabled is False
    finally:
        await srv.runner.cleanup()
