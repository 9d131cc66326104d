"""Sessions, staff login, tokens and refused connects."""

from __future__ import annotations

import pytest
import socketio

from tests.conftest import ADMIN_PASSWORD, Connect, Server, http
from tests.server.conftest import V11_DEFAULTS


async def test_session_without_pseudonym_picks_one(server: Server) -> None:
    status, body = await server.post("/api/session")
    assert status == 201
    ident = body["identity"]
    assert ident["role"] == "peer"
    assert 2 <= len(ident["pseudonym"]) <= 32
    assert isinstance(body["token"], str) and body["token"]


async def test_session_with_pseudonym_is_normalised(server: Server) -> None:
    status, body = await server.post("/api/session", {"pseudonym": "  River Otter  "})
    assert status == 201
    assert body["identity"]["pseudonym"] == "River Otter"


@pytest.mark.parametrize("pseudonym", ["", "   ", "x", "Adm1n", "ad min", "staff_2", "a" * 33, 5, ["x"], "we\u200bird"])
async def test_bad_pseudonym_is_invalid(server: Server, pseudonym: object) -> None:
    status, body = await server.post("/api/session", {"pseudonym": pseudonym})
    assert status == 400
    assert body["error"]["code"] == "invalid"


async def test_session_body_must_be_json_object(server: Server) -> None:
    status, body = await http(server.url, "POST", "/api/session", ["x"])
    assert status == 400 and body["error"]["code"] == "invalid"


async def test_login_bootstrap_admin(server: Server) -> None:
    status, body = await server.post("/api/login", {"name": "admin", "password": ADMIN_PASSWORD})
    assert status == 200
    assert body["identity"]["role"] == "admin"
    assert body["identity"]["pseudonym"] == "admin"


async def test_wrong_name_and_wrong_password_look_the_same(server: Server) -> None:
    s1, b1 = await server.post("/api/login", {"name": "admin", "password": "nope-nope"})
    s2, b2 = await server.post("/api/login", {"name": "nobody", "password": "nope-nope"})
    assert s1 == s2 == 401
    assert b1 == b2
    assert b1["error"]["code"] == "unauthorized"


async def test_login_limited_after_five_failures(server: Server) -> None:
    for _ in range(5):
        status, _ = await server.post("/api/login", {"name": "admin", "password": "wrong-wrong"})
        assert status == 401
    status, body = await http(server.url, "POST", "/api/login", {"name": "admin", "password": ADMIN_PASSWORD})
    assert status == 429
    assert body["error"]["code"] == "rate_limited"
    assert body["error"]["retry_after_ms"] > 0


async def test_login_429_has_retry_after_header(server: Server) -> None:
    import aiohttp

    for _ in range(5):
        await server.post("/api/login", {"name": "admin", "password": "wrong-wrong"})
    async with aiohttp.ClientSession() as s:
        async with s.post(server.url + "/api/login", json={"name": "admin", "password": "x" * 9}) as resp:
            assert resp.status == 429
            assert int(resp.headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    "auth", [None, {}, {"token": None}, {"token": "garbage"}, {"token": 42}, {"token": "h1.e30.AAAA"}]
)
async def test_connect_refused_without_valid_token(server: Server, auth: object) -> None:
    sio = socketio.AsyncClient(reconnection=False)
    errors: list[object] = []
    sio.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(server.url, auth=auth, transports=["websocket"], wait_timeout=5)
    assert len(errors) == 1
    payload = errors[0]
    assert isinstance(payload, dict)
    assert payload["data"]["code"] == "unauthorized"
    assert payload["message"] == payload["data"]["message"] and payload["message"]
    await sio.disconnect()


async def test_token_survives_restart(config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import open_client, start_server

    first = await start_server(config)
    token, ident = await first.session("Still Me")
    await first.runner.cleanup()
    second = await start_server(config)
    clients: list = []
    try:
        await second.room("circle")
        client = await open_client(second.url, token, clients)
        ack = await client.join("circle")
        assert ack["you"]["pseudonym"] == "Still Me"
        await client.sio.disconnect()
    finally:
        await second.runner.cleanup()


async def test_rooms_need_a_token(server: Server) -> None:
    status, body = await server.get("/api/rooms")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = await server.get("/api/rooms", token="forged")
    assert status == 401


async def test_peer_cannot_create_rooms(server: Server) -> None:
    token, _ = await server.session()
    status, body = await server.post("/api/rooms", {"name": "Mine"}, token)
    assert status == 403 and body["error"]["code"] == "forbidden"


async def test_room_crud(server: Server, connect: Connect) -> None:
    admin = await server.login()
    status, room = await server.post("/api/rooms", {"name": "Grief Circle", "topic": "Loss"}, admin)
    assert status == 201
    assert room == {
        "id": "grief-circle",
        "name": "Grief Circle",
        "topic": "Loss",
        "message_ttl_s": 86400,
        "slow_mode_s": 0,
        "locked": False,
        "capacity": None,
        "members": 0,
        **V11_DEFAULTS,
    }
    status, body = await server.post("/api/rooms", {"name": "Again", "id": "grief-circle"}, admin)
    assert status == 409 and body["error"]["code"] == "conflict"
    for bad in (
        {"name": ""},
        {"name": "x", "message_ttl_s": 59},
        {"name": "x", "message_ttl_s": 2592001},
        {"name": "x", "id": "Bad Id"},
        {"name": "x", "capacity": 0},
        {"name": "x", "message_ttl_s": "60"},
        {"name": "x", "bogus": 1},
    ):
        status, body = await server.post("/api/rooms", bad, admin)
        assert status == 400 and body["error"]["code"] == "invalid", bad
    token, _ = await server.session()
    peer = await connect(token)
    await peer.join("grief-circle")
    status, updated = await server.patch("/api/rooms/grief-circle", {"topic": "Loss and love", "locked": True}, admin)
    assert status == 200 and updated["topic"] == "Loss and love" and updated["locked"] is True
    assert updated["members"] == 1
    got = await peer.wait_for("room:updated")
    assert got == updated
    status, listing = await server.get("/api/rooms", token)
    assert listing["rooms"][0]["members"] == 1
    status, _ = await server.patch("/api/rooms/nowhere", {"topic": "x"}, admin)
    assert status == 404
    fac = await server.staff("fran")
    status, body = await server.delete("/api/rooms/grief-circle", fac)
    assert status == 403
    status, _ = await server.delete("/api/rooms/grief-circle", admin)
    assert status == 204
    removed = await peer.wait_for("room:removed")
    assert removed == {"room": "grief-circle", "reason": "room_deleted", "banned_until": None}
    status, listing = await server.get("/api/rooms", token)
    assert listing["rooms"] == []


async def test_healthz_and_metrics(server: Server) -> None:
    status, body = await server.get("/healthz")
    assert status == 200 and body["status"] == "ok" and body["store"] in ("sqlite", "redis")
    status, text = await server.get("/metrics")
    assert status == 200 and "hearth_connected_sockets" in text


async def test_unknown_api_route_is_json_404(server: Server) -> None:
    status, body = await server.get("/api/nothing-here")
    assert status == 404 and body["error"]["code"] == "not_found"


async def test_pages_are_served_with_csp(server: Server) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as s:
        for path in ("/", "/admin"):
            async with s.get(server.url + path) as resp:
                assert resp.status == 200
                assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


async def test_metrics_count_rooms_and_messages(server: Server, connect: Connect) -> None:
    from server.app import purge_once

    await server.room("circle")
    peer = await connect((await server.session())[0])
    await peer.join("circle")
    _, before = await server.get("/metrics")
    assert (await peer.send("circle", "counted"))["ok"]
    await purge_once(server.app)
    _, after = await server.get("/metrics")

    def value(text: str, name: str) -> float:
        return next(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))

    assert value(after, "hearth_messages_sent_total") == value(before, "hearth_messages_sent_total") + 1
    assert value(after, "hearth_rooms") == 1
    assert 'hearth_acks_total{code="ok",event="message:send"}' in after
    assert "counted" not in after
