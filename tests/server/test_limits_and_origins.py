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


async def _socket_from(server: Server, origin: str) -> bool:
    """Whether a websocket carrying this Origin header gets through the handshake."""
    token, _ = await server.session()
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(
            server.url, auth={"token": token}, transports=["websocket"], headers={"Origin": origin}, wait_timeout=5
        )
    except socketio.exceptions.ConnectionError:
        return False
    finally:
        await client.disconnect()
    return True


async def _cors_grant(server: Server, method: str, origin: str) -> str | None:
    headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    async with aiohttp.ClientSession() as s, s.request(method, server.url + "/api/session", headers=headers) as resp:
        return resp.headers.get("Access-Control-Allow-Origin")


async def test_allowed_origin_gets_cors_and_a_socket(with_origins: Server) -> None:
    assert await _cors_grant(with_origins, "OPTIONS", "https://chat.example.org") == "https://chat.example.org"
    assert await _cors_grant(with_origins, "POST", "https://chat.example.org") == "https://chat.example.org"
    assert await _socket_from(with_origins, "https://chat.example.org")


async def test_foreign_origin_gets_neither_cors_nor_a_socket(with_origins: Server) -> None:
    assert await _cors_grant(with_origins, "OPTIONS", "https://evil.example.com") is None
    assert await _cors_grant(with_origins, "POST", "https://evil.example.com") is None
    assert not await _socket_from(with_origins, "https://evil.example.com")


async def test_default_is_same_origin_only(server: Server) -> None:
    assert not await _socket_from(server, "https://evil.example.com")
    assert await _socket_from(server, server.url)
