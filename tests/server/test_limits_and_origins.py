"""Per-IP limits, trusted proxies, and the allowed-origins rule (precise rules 18 and 22)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import socketio

from server.config import Config
from server.ip_limits import client_address
from tests.conftest import Server, start_server


@pytest.fixture
async def limited(config: Config) -> AsyncIterator[Server]:
    srv = await start_server(config.replace(ip_limits=True, sessions_per_ip_per_min=3, connects_per_ip_per_min=2))
    yield srv
    await srv.runner.cleanup()


async def test_sessions_per_ip_are_limited(limited: Server) -> None:
    for _ in range(3):
        assert (await limited.post("/api/session"))[0] == 201
    async with aiohttp.ClientSession() as s, s.post(limited.url + "/api/session") as resp:
        body = await resp.json()
        assert resp.status == 429 and body["error"]["code"] == "rate_limited"
        assert body["error"]["retry_after_ms"] > 0 and int(resp.headers["Retry-After"]) >= 1


async def test_x_forwarded_for_is_ignored_without_trusted_proxies(limited: Server) -> None:
    for i in range(3):
        status, _ = await _post_from(limited, f"203.0.113.{i}")
        assert status == 201
    status, _ = await _post_from(limited, "203.0.113.99")
    assert status == 429  # all came from 127.0.0.1: the header is not believed


async def _post_from(srv: Server, forwarded: str) -> tuple[int, object]:
    async with (
        aiohttp.ClientSession() as s,
        s.post(srv.url + "/api/session", headers={"X-Forwarded-For": forwarded}) as r,
    ):
        return r.status, await r.json()


def test_trusted_proxy_rule() -> None:
    assert client_address("127.0.0.1", "198.51.100.7", ()) == "127.0.0.1"
    assert client_address("127.0.0.1", "198.51.100.7", ("127.0.0.1/32",)) == "198.51.100.7"
    assert client_address("127.0.0.1", "198.51.100.7, 10.0.0.2", ("127.0.0.1/32", "10.0.0.0/8")) == "198.51.100.7"
    assert client_address("192.0.2.1", "198.51.100.7", ("127.0.0.1/32",)) == "192.0.2.1"


async def test_connections_per_ip_are_limited(limited: Server) -> None:
    token, _ = await limited.session()
    clients = []
    try:
        for _ in range(2):
            c = socketio.AsyncClient(reconnection=False)
            await c.connect(limited.url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
            clients.append(c)
        refused = socketio.AsyncClient(reconnection=False)
        errors: list[object] = []
        refused.on("connect_error", errors.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await refused.connect(limited.url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
        assert errors and errors[0]["data"]["code"] == "rate_limited"  # type: ignore[index]
        await refused.disconnect()
    finally:
        for c in clients:
            await c.disconnect()


@pytest.fixture
async def with_origins(config: Config) -> AsyncIterator[Server]:
    srv = await start_server(config.replace(allowed_origins=("https://chat.example.org",)))
    yield srv
    await srv.runner.cleanup()


async def test_allowed_origin_gets_cors_and_a_socket(with_origins: Server) -> None:
    async with aiohttp.ClientSession() as s:
        headers = {"Origin": "https://chat.example.org", "Access-Control-Request-Method": "POST"}
        async with s.options(with_origins.url + "/api/session", headers=headers) as resp:
            assert resp.headers.get("Access-Control-Allow-Origin") == "https://chat.example.org"
    token, _ = await with_origins.session()
    c = socketio.AsyncClient(reconnection=False)
    await c.connect(
        with_origins.url,
        auth={"token": token},
        transports=["websocket"],
        headers={"Origin": "https://chat.example.org"},
        wait_timeout=5,
    )
    assert c.connected
    await c.disconnect()


async def test_foreign_origin_gets_neither_cors_nor_a_socket(with_origins: Server) -> None:
    async with aiohttp.ClientSession() as s:
        headers = {"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"}
        async with s.options(with_origins.url + "/api/session", headers=headers) as resp:
            assert "Access-Control-Allow-Origin" not in resp.headers
        async with s.post(with_origins.url + "/api/session", headers={"Origin": "https://evil.example.com"}) as resp:
            assert "Access-Control-Allow-Origin" not in resp.headers
    token, _ = await with_origins.session()
    c = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await c.connect(
            with_origins.url,
            auth={"token": token},
            transports=["websocket"],
            headers={"Origin": "https://evil.example.com"},
            wait_timeout=5,
        )
    await c.disconnect()


async def test_default_is_same_origin_only(server: Server) -> None:
    token, _ = await server.session()
    c = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await c.connect(
            server.url,
            auth={"token": token},
            transports=["websocket"],
            headers={"Origin": "https://evil.example.com"},
            wait_timeout=5,
        )
    await c.disconnect()
    same = socketio.AsyncClient(reconnection=False)
    await same.connect(
        server.url, auth={"token": token}, transports=["websocket"], headers={"Origin": server.url}, wait_timeout=5
    )
    assert same.connected
    await same.disconnect()
