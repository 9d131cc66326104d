"""Transport bounds: binary refused at once, no-CONNECT sessions timed out and capped, slow readers dropped."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from server import metrics, wire
from server.transport.drain import DRAIN
from tests.conftest import Connect, Server, make_config, start_server
from tests.rawws import RawWebSocket

WS_PATH = "/socket.io/?EIO=4&transport=websocket"


def counter(name: str, reason: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, {"reason": reason}) or 0.0


def refused(reason: str) -> float:
    return counter("hearth_transport_refused_total", reason)


def dropped(reason: str) -> float:
    return counter("hearth_transport_dropped_total", reason)


async def signed_in(server: Server) -> RawWebSocket:
    token, _ = await server.session()
    ws = await RawWebSocket.connect(server.url, WS_PATH)
    opened = await ws.recv_text()
    assert opened is not None and opened.startswith("0{")
    ws.send_text("40" + json.dumps({"token": token}))
    connected = await ws.recv_text()
    assert connected is not None and connected.startswith("40{"), connected
    return ws


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


@pytest.mark.parametrize(
    "first",
    [
        '451-["message:send",{"_placeholder":true,"num":0}]',
        '461-0[{"_placeholder":true,"num":0}]',
        "bAQIDBA==",  # an Engine.IO base64 binary message
        b"\x01\x02\x03",  # a binary websocket frame
    ],
)
async def test_binary_is_refused_at_the_first_frame(
    server: Server, caplog: pytest.LogCaptureFixture, first: str | bytes
) -> None:
    caplog.set_level(logging.INFO)
    before = refused("binary")
    ws = await signed_in(server)
    if isinstance(first, bytes):
        ws.send_binary(first)
    else:
        ws.send_text(first)
    assert await ws.closed()  # no attachment was waited for
    await ws.aclose()
    assert refused("binary") == before + 1
    no_tracebacks(caplog)


@pytest.mark.parametrize(
    "frame",
    ['42{"room":"circle"}', '42"room:join"', "42[]", "42[1,2]", "420{}", "43abc[]", "4abc", "42[", "44{}", "49"],
)
async def test_malformed_socketio_packets_close_with_one_short_line(
    server: Server, connect: Connect, caplog: pytest.LogCaptureFixture, frame: str
) -> None:
    caplog.set_level(logging.INFO)
    await server.room("circle")
    bystander = await connect((await server.session())[0])
    await bystander.join("circle")
    ws = await signed_in(server)
    ws.send_text(frame)
    ws.send_text('42["message:send",{"room":"circle","text":"after"}]')  # never handled: the socket is closed
    assert await ws.closed()
    await ws.aclose()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith(("server.transport", "engineio", "socketio"))]
    assert lines == ["event=transport_refused reason=malformed"], lines
    no_tracebacks(caplog)
    assert (await bystander.send("circle", "still here"))["ok"]


async def test_a_session_without_connect_is_closed_after_the_timeout(server: Server) -> None:
    sio = server.app[DRAIN].server
    sio.transport_settings = dataclasses.replace(sio.transport_settings, connect_timeout_s=0.3)
    before = dropped("connect_timeout")
    ws = await RawWebSocket.connect(server.url, WS_PATH)
    assert (await ws.recv_text() or "").startswith("0{")
    assert await ws.recv_text() == "1"  # the Engine.IO CLOSE packet, then the connection ends
    assert await ws.closed()
    await ws.aclose()
    assert dropped("connect_timeout") == before + 1
    # a session that does connect in time is left alone
    token, _ = await server.session()
    ok = await RawWebSocket.connect(server.url, WS_PATH)
    await ok.recv_text()
    ok.send_text("40" + json.dumps({"token": token}))
    assert (await ok.recv_text() or "").startswith("40{")
    await asyncio.sleep(0.6)
    assert dropped("connect_timeout") == before + 1
    await ok.aclose()


@pytest.mark.parametrize("store_kind", ["sqlite"])
async def test_sessions_without_connect_count_in_the_per_address_cap(tmp_path: Path, store_kind: str) -> None:
    srv = await start_server(make_config(tmp_path, ip_limits=True))
    try:
        eio = srv.app[DRAIN].server.eio
        eio.settings = dataclasses.replace(eio.settings, sessions_per_address=5)
        before = dropped("address_cap")
        idle = [await RawWebSocket.connect(srv.url, WS_PATH) for _ in range(5)]  # never send a CONNECT
        for ws in idle:
            assert (await ws.recv_text() or "").startswith("0{")
        async with aiohttp.ClientSession() as http:
            async with http.get(srv.url + "/socket.io/?EIO=4&transport=polling") as resp:
                assert resp.status == 429
            with pytest.raises(ConnectionError):
                await RawWebSocket.connect(srv.url, WS_PATH)
            assert dropped("address_cap") == before + 2
            await idle[0].aclose()
            for _ in range(100):  # the server notices the closed connection
                if sum(eio.sessions_by_address.values()) < 5:
                    break
                await asyncio.sleep(0.02)
            async with http.get(srv.url + "/socket.io/?EIO=4&transport=polling") as resp:
                assert resp.status == 200
        for ws in idle[1:]:
            await ws.aclose()
    finally:
        await srv.runner.cleanup()


def server_side(sio: Any, raw: RawWebSocket) -> Any:
    """The server's Engine.IO socket for a raw client, matched by the client's port."""
    port = raw.writer.get_extra_info("sockname")[1]
    for sock in sio.eio.sockets.values():
        transport = None if sock.ws is None or sock.ws.request is None else sock.ws.request.transport
        if transport is not None and transport.get_extra_info("peername")[1] == port:
            return sock
    raise AssertionError("no such socket")


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def test_a_client_that_stops_reading_is_dropped_and_memory_stays_bounded(
    server: Server, connect: Connect
) -> None:
    await server.room("circle")
    reader = await connect((await server.session())[0])
    await reader.join("circle")
    stalled = await RawWebSocket.connect(server.url, WS_PATH, rcvbuf=4096)
    try:
        await stalled.recv_text()
        token, _ = await server.session()
        stalled.send_text("40" + json.dumps({"token": token}))
        assert (await stalled.recv_text() or "").startswith("40{")
        stalled.send_text('420["room:join",{"room":"circle"}]')
        while not (await stalled.recv_text() or "").startswith("430"):
            pass
        # From here on the stalled client reads nothing, but keeps answering pings (blindly).
        sio = server.app[DRAIN].server
        settings = sio.eio.settings
        stalled_sock = server_side(sio, stalled)
        before_drops = dropped("slow_consumer")
        before_rss = rss_kib()
        blob = "z" * 16_000
        sent = peak_packets = peak_bytes = 0
        while not stalled_sock.dropped and sent < 20_000:  # at most 320 MB if nothing bounded it
            await sio.emit("flood", {"n": sent, "blob": blob}, room=wire.channel("circle"))
            sent += 1
            peak_packets = max(peak_packets, stalled_sock.queue.qsize())
            peak_bytes = max(peak_bytes, stalled_sock.queued_bytes)
            if sent % 20 == 0:
                stalled.send_text("3")
                await asyncio.sleep(0)
                await reader.wait_for("flood", lambda d, n=sent - 1: d["n"] == n)  # the reading client keeps up
        assert stalled_sock.dropped
        assert dropped("slow_consumer") == before_drops + 1
        assert peak_packets <= settings.max_queue_packets
        assert peak_bytes <= settings.max_queue_bytes + len(blob) + 100
        assert stalled_sock.queue.qsize() <= 1 and stalled_sock.queued_bytes == 0  # freed when dropped
        grown_mib = (rss_kib() - before_rss) / 1024
        flooded_mib = sent * len(blob) / 2**20
        print(f"flood: {sent} packets ({flooded_mib:.1f} MiB) before the drop; RSS grew {grown_mib:.1f} MiB")
        assert grown_mib < 64
    finally:
        await stalled.aclose()  # also when an assertion failed: no socket left for a later test
    # the room carries on for the reader
    assert (await (await connect((await server.session())[0])).join("circle"))["ok"]


async def test_a_peer_that_stops_answering_pings_is_closed_and_one_that_answers_stays(server: Server) -> None:
    """No read waits on a timer of its own: an overdue pong is what ends a silent session."""
    eio = server.app[DRAIN].server.eio
    eio.ping_interval, eio.ping_timeout = 0.5, 0.5  # before the first session: the service task reads them
    silent, alive = await signed_in(server), await signed_in(server)
    pongs = 0

    async def answer() -> None:
        nonlocal pongs
        while (msg := await alive.recv_text()) is not None:
            if msg == "2":
                alive.send_text("3")
                pongs += 1

    answering = asyncio.create_task(answer())
    try:
        seen: list[str] = []
        async with asyncio.timeout(15):
            while (msg := await silent.recv_text()) is not None:
                seen.append(msg)
        assert "2" in seen  # pinged, never answered, closed
        await asyncio.sleep(1.5)  # three more ping cycles for the peer that answers
        assert not answering.done() and pongs >= 3
    finally:
        answering.cancel()
        await asyncio.gather(answering, return_exceptions=True)
        await silent.aclose()
        await alive.aclose()
