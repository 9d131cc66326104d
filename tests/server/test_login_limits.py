"""Login limits per name and client address (precise rule 18), and staff tokens revoked on a password change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import socketio

from server.config import Config
from tests.conftest import ADMIN_PASSWORD, Server, http, make_config, start_server


@pytest.fixture
async def proxied(config: Config, tmp_path: Path) -> AsyncIterator[Server]:
    """A server that trusts the test client as its proxy, so X-Forwarded-For picks the client address."""
    srv = await start_server(config.replace(trusted_proxies=("127.0.0.1/32",)))
    yield srv
    await srv.runner.cleanup()


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


async def _login(srv: Server, password: str, address: str, name: str = "admin") -> tuple[int, object]:
    return await http(srv.url, "POST", "/api/login", {"name": name, "password": password}, headers=_from(address))


async def test_failures_from_one_address_never_lock_out_another(proxied: Server) -> None:
    for _ in range(5):
        status, _ = await _login(proxied, "wrong-wrong", "203.0.113.7")
        assert status == 401
    status, body = await _login(proxied, ADMIN_PASSWORD, "203.0.113.7")
    assert status == 429, body
    status, body = await _login(proxied, ADMIN_PASSWORD, "198.51.100.2")
    assert status == 200, body


async def test_limit_is_per_name(proxied: Server) -> None:
    await proxied.staff("fran")
    for _ in range(5):
        await _login(proxied, "wrong-wrong", "203.0.113.7", name="fran")
    status, _ = await _login(proxied, "pw-fran-123", "203.0.113.7", name="fran")
    assert status == 429
    status, _ = await _login(proxied, ADMIN_PASSWORD, "203.0.113.7")
    assert status == 200


async def test_success_clears_the_count(proxied: Server) -> None:
    for _ in range(4):
        await _login(proxied, "wrong-wrong", "203.0.113.7")
    status, _ = await _login(proxied, ADMIN_PASSWORD, "203.0.113.7")
    assert status == 200
    for _ in range(4):
        status, _ = await _login(proxied, "wrong-wrong", "203.0.113.7")
        assert status == 401
    status, _ = await _login(proxied, ADMIN_PASSWORD, "203.0.113.7")
    assert status == 200


async def test_concurrent_failures_cannot_slip_past_the_limit(proxied: Server) -> None:
    results = await asyncio.gather(*(_login(proxied, f"wrong-{n:04d}", "203.0.113.9") for n in range(12)))
    statuses = sorted(status for status, _ in results)
    assert statuses.count(401) == 5, statuses
    assert statuses.count(429) == 7, statuses
    status, _ = await _login(proxied, ADMIN_PASSWORD, "203.0.113.9")
    assert status == 429


async def test_login_limit_holds_with_ip_limits_off(tmp_path: Path) -> None:
    srv = await start_server(make_config(tmp_path, ip_limits=False, trusted_proxies=("127.0.0.1/32",)))
    try:
        for _ in range(5):
            await _login(srv, "wrong-wrong", "203.0.113.7")
        status, _ = await _login(srv, ADMIN_PASSWORD, "203.0.113.7")
        assert status == 429
    finally:
        await srv.runner.cleanup()


async def _connect_refused(srv: Server, token: str) -> str:
    sio = socketio.AsyncClient(reconnection=False)
    errors: list[object] = []
    sio.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(srv.url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
    assert isinstance(errors[0], dict)
    return str(errors[0]["data"]["code"])


async def test_password_change_revokes_old_tokens(server: Server) -> None:
    admin = await server.login()
    old = await server.staff("fran")
    status, body = await server.patch("/api/admin/staff/fran", {"password": "a-new-password"}, admin)
    assert status == 200 and body == {"name": "fran", "role": "facilitator"}
    status, body = await server.get("/api/rooms", old)
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert await _connect_refused(server, old) == "unauthorized"
    status, _ = await server.post("/api/login", {"name": "fran", "password": "pw-fran-123"})
    assert status == 401
    fresh = await server.login("fran", "a-new-password")
    status, _ = await server.get("/api/rooms", fresh)
    assert status == 200
    status, _ = await server.get("/api/rooms", admin)
    assert status == 200  # other accounts' tokens are untouched


async def test_password_change_disconnects_open_sockets(server: Server) -> None:
    admin = await server.login()
    token = await server.staff("fran")
    sio = socketio.AsyncClient(reconnection=False)
    gone = asyncio.Event()
    sio.on("disconnect", lambda *_: gone.set())
    await sio.connect(server.url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
    status, _ = await server.patch("/api/admin/staff/fran", {"password": "a-new-password"}, admin)
    assert status == 200
    await asyncio.wait_for(gone.wait(), 5)


@pytest.mark.parametrize(
    ("name", "body", "status", "code"),
    [
        ("nobody", {"password": "long-enough"}, 404, "not_found"),
        ("admin", {"password": "short"}, 400, "invalid"),
        ("admin", {"password": "long-enough", "role": "admin"}, 400, "invalid"),
        ("admin", ["x"], 400, "invalid"),
    ],
)
async def test_password_change_errors(server: Server, name: str, body: object, status: int, code: str) -> None:
    admin = await server.login()
    got, answer = await server.patch(f"/api/admin/staff/{name}", body, admin)
    assert got == status and answer["error"]["code"] == code


async def test_only_admins_change_passwords(server: Server) -> None:
    fran = await server.staff("fran")
    status, body = await server.patch("/api/admin/staff/admin", {"password": "long-enough"}, fran)
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, _ = await server.post("/api/login", {"name": "admin", "password": ADMIN_PASSWORD})
    assert status == 200
