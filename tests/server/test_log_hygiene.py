"""What the logs of a real ``hearth`` process hold after a full scenario: ids, codes and timings only.

A real ``python -m server`` runs on each store; a scenario drives sessions, logins, joins, sends,
flags, every moderation command, support requests, malformed Socket.IO frames and hostile HTTP,
with a fresh marker in every field a person or client fills in. Afterwards the whole of stderr
(where ``hearth`` logs, access log included) must hold none of the markers, tokens, Engine.IO or
Socket.IO sids, nor the client's address, and every line must be one of Hearth's own lines:
nothing in a URL can start a new one.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import re
import signal
import string
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
import socketio

from tests.conftest import TEST_KEY, Client, free_port, http, open_client, wait_healthy
from tests.rawws import RawWebSocket

ADMIN_PASSWORD = "log-hygiene-admin-password"
FORGED = "2000-01-01 00:00:00,000 ERROR hearth FORGED"
LINE = re.compile(r"\A\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+ \S")
CLIENT_ADDRESS = "127.0.0.1"
FORWARDED = "198.51.100.77"


class Markers:
    """A fresh, distinct marker per field; every one must stay out of the logs."""

    def __init__(self) -> None:
        self.made: dict[str, str] = {}

    def __call__(self, field: str) -> str:
        letters = "".join(random.choices(string.ascii_lowercase, k=10))
        self.made[field] = "Zq" + letters
        return self.made[field]


@pytest.fixture(params=["sqlite", "redis"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HEARTH_", "REDIS_URL", "PORT"))}
    base.update(
        {
            "HEARTH_DATA_DIR": str(tmp_path / "data"),
            "HEARTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "HEARTH_SECRET_KEY": base64.urlsafe_b64encode(TEST_KEY).decode(),
            "HEARTH_TRUSTED_PROXIES": CLIENT_ADDRESS,  # so X-Forwarded-For is read, and must not be logged either
            "HEARTH_SESSIONS_PER_IP_PER_MIN": "1000",
            "HEARTH_LOGINS_PER_IP_PER_MIN": "1000",
            "HEARTH_CONNECTS_PER_IP_PER_MIN": "1000",
        }
    )
    if request.param == "redis":
        import redis

        url = request.getfixturevalue("redis_server")
        client = redis.Redis.from_url(url)
        client.flushdb()
        client.close()
        base["REDIS_URL"] = url
    return base


async def _raw_http(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(4096), 10)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, OSError):
            pass


async def _scenario(url: str, mark: Markers, secrets_seen: set[str]) -> None:
    xff = {"X-Forwarded-For": FORWARDED}
    login = {"name": "admin", "password": ADMIN_PASSWORD}
    status, admin_login = await http(url, "POST", "/api/login", login, None, xff)
    assert status == 200, admin_login
    admin = admin_login["token"]
    secrets_seen.add(admin)
    room = {"id": "circle", "name": "Circle", "topic": mark("topic")}
    assert (await http(url, "POST", "/api/rooms", room, admin))[0] == 201
    staff_password = "pw-" + mark("staff_password")
    body = {"name": "fran", "role": "facilitator", "password": staff_password}
    assert (await http(url, "POST", "/api/admin/staff", body, admin))[0] == 201
    status, fran_login = await http(url, "POST", "/api/login", {"name": "fran", "password": staff_password})
    assert status == 200
    secrets_seen.add(fran_login["token"])
    wrong = {"name": "fran", "password": mark("wrong_password")}
    assert (await http(url, "POST", "/api/login", wrong, None, xff))[0] == 401

    tokens = []
    for field in ("pseudonym_a", "pseudonym_b"):
        status, session = await http(url, "POST", "/api/session", {"pseudonym": mark(field)}, None, xff)
        assert status == 201, session
        tokens.append(session["token"])
    secrets_seen.update(tokens)

    clients: list[Client] = []
    try:
        fran = await open_client(url, fran_login["token"], clients)
        admin_sock = await open_client(url, admin, clients)
        alice = await open_client(url, tokens[0], clients)
        bea = await open_client(url + "?where=" + mark("query_socketio"), tokens[1], clients)
        # One over long-polling too: there the Engine.IO sid travels in every request's query string.
        polling = Client(socketio.AsyncClient(reconnection=False))
        clients.append(polling)
        await polling.sio.connect(url, auth={"token": tokens[1]}, transports=["polling"], wait_timeout=5)
        assert (await polling.call("room:join", {"room": "circle"}))["ok"]
        for client in clients:
            secrets_seen.update(s for s in (client.sio.sid, client.sio.eio.sid) if s)
        await fran.join("circle")
        alice_id = (await alice.join("circle"))["you"]["id"]
        bea_id = (await bea.join("circle"))["you"]["id"]
        sent = await alice.send("circle", mark("text"), client_id=mark("client_id"))
        assert sent["ok"], sent
        await bea.send("circle", mark("text_b"))
        flag = await bea.call(
            "message:flag", {"room": "circle", "message_id": sent["message"]["id"], "reason": mark("flag_reason")}
        )
        assert flag["ok"], flag
        await admin_sock.wait_for("flag:new")
        support = await bea.call("support:request", {"room": "circle", "text": mark("support_text")})
        assert support["ok"], support
        reply = {"room": "circle", "member": bea_id, "text": mark("support_reply")}
        assert (await fran.call("support:reply", reply))["ok"]
        warn = await fran.call("mod:warn", {"room": "circle", "member": alice_id, "text": mark("warn_text")})
        assert warn["ok"], warn
        mute = {"room": "circle", "member": alice_id, "duration_s": 60, "reason": mark("mute_reason")}
        assert (await fran.call("mod:mute", mute))["ok"]
        muted = await alice.send("circle", mark("muted_text"))
        assert muted["error"]["code"] == "muted"
        assert (await fran.call("mod:unmute", {"room": "circle", "member": alice_id}))["ok"]
        delete = {"room": "circle", "message_id": sent["message"]["id"], "reason": mark("delete_reason")}
        assert (await fran.call("mod:delete", delete))["ok"]
        remove = {"room": "circle", "member": bea_id, "ban_s": 60, "reason": mark("remove_reason")}
        assert (await fran.call("mod:remove", remove))["ok"]
        resolve = {"action": "dismiss", "note": mark("resolve_note")}
        status, _ = await http(url, "POST", f"/api/admin/flags/{flag['flag_id']}/resolve", resolve, admin)
        assert status == 200
        # Refused input over Socket.IO: every field invalid, and a marker in each.
        for bad in (
            {"room": "circle\n" + mark("bad_room"), "text": "x"},
            {"room": "circle", "text": mark("too_long") * 500},
            {"room": "circle", "text": 5, "client_id": mark("bad_client_id") + "\n" * 3},
        ):
            assert not (await alice.call("message:send", bad))["ok"]
        assert not (await alice.call(mark("unknown_event"), {"x": mark("unknown_data")}))["ok"]
    finally:
        for client in clients:
            if client.sio.connected:
                await client.sio.disconnect()

    # A refused socket: a token nobody issued, in the auth and in the query string.
    bogus = mark("bogus_token")
    refused = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await refused.connect(url + "?token=" + bogus, auth={"token": bogus}, transports=["websocket"], wait_timeout=5)
    await refused.disconnect()

    # Malformed frames over a raw websocket (each connection may log one short line, no more).
    for frames in (
        ["40", "42[" + mark("frame_text"), '42["message:send",{"room":"circle","text":"' + mark("frame_json") + '"}'],
        ["40" + json.dumps({"token": mark("frame_token")}), "451-[" + mark("binary_header") + "]"],
        ["4" + mark("engineio_garbage"), "\x00\x01\n" + mark("control_chars")],
    ):
        ws = await RawWebSocket.connect(url, "/socket.io/?EIO=4&transport=websocket&q=" + mark("raw_query"))
        try:
            await ws.recv_text()  # the Engine.IO open packet
            for frame in frames:
                ws.send_text(frame)
            ws.send_binary(mark("binary_frame").encode())
            await asyncio.wait_for(ws.closed(), 30)
        finally:
            await ws.aclose()

    # Hostile HTTP: bad tokens, bad bodies, query strings, and a path that tries to start a log line.
    headers = {"X-Forwarded-For": FORWARDED, "User-Agent": mark("user_agent"), "Referer": "http://" + mark("referer")}
    assert (await http(url, "GET", "/api/admin/flags", None, mark("http_token"), headers))[0] == 401
    assert (await http(url, "GET", "/api/rooms?secret=" + mark("http_query"), None, admin, headers))[0] == 200
    assert (await http(url, "POST", "/api/session", {"pseudonym": mark("bad_pseudonym") + "\n" + FORGED}))[0] == 400
    async with aiohttp.ClientSession() as session:
        for raw_body in (b"{" + mark("bad_json").encode(), b"[" * 100_000, b'{"pseudonym": "\\ud800' + b'"}'):
            async with session.post(url + "/api/session", data=raw_body, headers=headers) as resp:
                assert resp.status in (400, 413), resp.status
        async with session.post(
            url + "/api/session", data=b"\x1f\x8b" + mark("gzip").encode(), headers={"Content-Encoding": "gzip"}
        ) as resp:
            assert resp.status == 415
    for path in (
        "/api/nowhere%0A" + FORGED.replace(" ", "%20"),
        "/socket.io/%0D%0A" + FORGED.replace(" ", "%20") + "?EIO=4&transport=polling",
        "/nowhere%1b[31m%0a" + FORGED.replace(" ", "%20") + "?" + mark("page_query"),
    ):
        reply_bytes = await _raw_http(url, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert reply_bytes.startswith(b"HTTP/1.1 4"), reply_bytes[:80]
    await _raw_http(url, b"GET /\x1b" + mark("raw_line").encode() + b" HTTP/1.1\r\n\r\n")
    await _raw_http(url, mark("not_http").encode() + b"\r\n\r\n")


async def test_logs_hold_no_secrets_text_sids_or_addresses(env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "hearth.log"
    mark = Markers()
    seen: set[str] = set()
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            text=True,
        )
        try:
            await wait_healthy(url, proc)
            await _scenario(url, mark, seen)
        finally:
            proc.send_signal(signal.SIGTERM)
            await asyncio.to_thread(proc.wait, 30)
    assert proc.returncode == 0
    log = log_path.read_text(encoding="utf-8", errors="replace")
    lines = log.splitlines()
    assert any("event=connect" in line for line in lines)  # the log is there and Hearth wrote to it
    assert any("method=GET path=/api/rooms status=200" in line for line in lines)  # and so did the access log
    assert any("method=GET path=/socket.io/ status=200" in line for line in lines)  # long-polling included
    for field, marker in mark.made.items():
        assert marker.lower() not in log.lower(), f"the {field} marker is in the log"
    for secret in seen:
        assert secret not in log, "a token or sid is in the log"
    assert ADMIN_PASSWORD not in log
    assert FORWARDED not in log
    own_address = [line for line in lines if CLIENT_ADDRESS in line and "event=listening" not in line]
    own_address = [line for line in own_address if "event=config" not in line]  # the server's own listening address
    assert own_address == []
    for line in lines:
        assert LINE.match(line), f"not one of Hearth's log lines: {line!r}"
        assert "FORGED" not in line or "\\x" in line or "%0" in line.upper(), line
    assert "Traceback" not in log
    refusals = [line for line in lines if "event=transport_refused" in line or "event=transport_dropped" in line]
    assert len(refusals) <= 3  # at most one per raw connection
    # Refused events: one line per connection at most (alice had several refused, and was muted).
    refused_events = [line.split(" conn=")[1].split()[0] for line in lines if " conn=" in line and " code=" in line]
    assert refused_events and len(refused_events) == len(set(refused_events))
    # A refused HTTP request is one line: the access log's, with its status.
    assert not any("server.http_api" in line for line in lines)
