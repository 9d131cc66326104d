"""Hostile HTTP bodies get a clear 4xx with an error code, never a 500 or a traceback; /api is never cached."""

from __future__ import annotations

import gzip
import logging
from typing import Any

import aiohttp
import pytest

from tests.conftest import Server

DEEP = b'{"pseudonym": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
DEEP_UNKNOWN = b'{"x": ' + b'{"a":' * 6_000 + b"1" + b"}" * 6_000 + b"}"


async def _raw(
    server: Server, method: str, path: str, data: bytes, headers: dict[str, str] | None = None
) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
    async with (
        aiohttp.ClientSession(auto_decompress=False) as session,
        session.request(method, server.url + path, data=data, headers=headers or {}) as resp,
    ):
        body = await resp.json(content_type=None) if resp.content_type == "application/json" else await resp.text()
        return resp.status, body, resp.headers


BAD_BODIES = [
    pytest.param(DEEP, {}, 400, id="deeply-nested"),
    pytest.param(DEEP_UNKNOWN, {}, 400, id="deeply-nested-unknown-field"),
    pytest.param(b'{"pseudonym": "a\\ud800b"}', {}, 400, id="lone-high-surrogate"),
    pytest.param(b'{"pseudonym": "\\udc00"}', {}, 400, id="lone-low-surrogate"),
    pytest.param(b'{"pseudonym": "\xed\xa0\x80"}', {}, 400, id="surrogate-in-utf8"),
    pytest.param(b'{"pseudonym": "\xff"}', {}, 400, id="not-utf8"),
    pytest.param(b'{"pseudonym": "Quiet Heron"}', {"Content-Encoding": "gzip"}, 415, id="stray-gzip"),
    pytest.param(gzip.compress(b'{"pseudonym": "Quiet Heron"}'), {"Content-Encoding": "gzip"}, 415, id="real-gzip"),
    pytest.param(b"{}", {"Content-Encoding": "br"}, 415, id="brotli"),
    pytest.param(b'{"pseudonym": "' + b"x" * 70_000 + b'"}', {}, 413, id="oversize"),
    pytest.param(b"[1, 2]", {}, 400, id="not-an-object"),
    pytest.param(b'{"pseudonym": 1e999999}', {}, 400, id="huge-number"),
    pytest.param(b'{"pseudonym": "a"', {}, 400, id="truncated"),
    pytest.param(b"\x00\x01", {}, 400, id="binary"),
]


@pytest.mark.parametrize(("data", "headers", "status"), BAD_BODIES)
async def test_hostile_bodies_are_refused_cleanly(
    server: Server, caplog: pytest.LogCaptureFixture, data: bytes, headers: dict[str, str], status: int
) -> None:
    caplog.set_level(logging.INFO)
    admin = await server.login()
    for path, auth in (("/api/session", None), ("/api/rooms", admin), ("/api/admin/staff", admin)):
        hdrs = {"Content-Type": "application/json", **headers}
        if auth:
            hdrs["Authorization"] = f"Bearer {auth}"
        got, body, resp_headers = await _raw(server, "POST", path, data, hdrs)
        assert got == status, (path, got, body)
        assert isinstance(body, dict) and isinstance(body["error"]["code"], str), body
        assert resp_headers.get("Cache-Control") == "no-store"
    assert "Traceback" not in caplog.text and "code=internal" not in caplog.text
    # The server is still fine.
    assert (await server.session())[0]


async def test_every_api_response_is_no_store(server: Server) -> None:
    admin = await server.login()
    await server.room("circle")
    for method, path, token in (
        ("GET", "/api/rooms", admin),
        ("GET", "/api/rooms", None),
        ("GET", "/api/admin/flags", admin),
        ("GET", "/api/admin/audit", admin),
        ("GET", "/api/nowhere", admin),
        ("DELETE", "/api/rooms/nowhere", admin),
        ("PUT", "/api/rooms", admin),
        ("OPTIONS", "/api/rooms", None),
    ):
        hdrs = {"Authorization": f"Bearer {token}"} if token else {}
        async with aiohttp.ClientSession() as session, session.request(method, server.url + path, headers=hdrs) as r:
            assert r.headers.get("Cache-Control") == "no-store", (method, path, r.status)
    for path in ("/api/session", "/api/login"):
        async with aiohttp.ClientSession() as session, session.post(server.url + path, json={}) as r:
            assert r.headers.get("Cache-Control") == "no-store", path


@pytest.mark.parametrize(
    "path",
    [
        "/api/admin/audit?room=%ED%A0%80",
        "/api/admin/audit?room=%00",
        "/api/admin/audit?limit=%ED%A0%80",
        "/api/admin/audit?limit=%D9%A3",  # an Arabic-Indic digit is not a limit
        "/api/admin/flags?status=%ED%A0%80",
        "/api/admin/audit?room=" + "x" * 5000,
    ],
)
async def test_hostile_queries_are_never_a_500(server: Server, path: str) -> None:
    admin = await server.login()
    async with (
        aiohttp.ClientSession() as session,
        session.get(server.url + path, headers={"Authorization": f"Bearer {admin}"}) as resp,
    ):
        assert resp.status in (200, 400), (path, resp.status, await resp.text())


@pytest.mark.parametrize("room_id", ["%ED%A0%80", "%00", "x" * 3000, "a%0Ab"])
async def test_hostile_room_ids_in_paths_are_not_found(server: Server, room_id: str) -> None:
    admin = await server.login()
    for method, body in (("PATCH", b'{"topic": "x"}'), ("DELETE", b"")):
        got, body_out, _ = await _raw(
            server,
            method,
            "/api/rooms/" + room_id,
            body,
            {"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
        )
        assert got == 404 and body_out["error"]["code"] == "not_found", (method, got, body_out)
