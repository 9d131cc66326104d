"""The transport's fast path is taken, can be switched off by the start-up check, and carries big frames."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
import socketio

from server import metrics, wire
from server.transport import compat
from server.transport.drain import DRAIN
from tests.conftest import Connect, Server, make_config, start_server


def sample(name: str) -> float:
    return metrics.REGISTRY.get_sample_value(name) or 0.0


def direct() -> float:
    return sample("hearth_transport_direct_frames_total")


def queued() -> float:
    return sample("hearth_transport_queued_packets_total")


async def _polling_client(url: str, token: str, got: list[Any], event: str) -> socketio.AsyncClient:
    sio = socketio.AsyncClient(reconnection=False)

    @sio.on(event)
    async def on_event(data: Any) -> None:
        got.append(data)

    await sio.connect(url, auth={"token": token}, transports=["polling"], wait_timeout=5)
    return sio


async def test_broadcast_to_a_settled_websocket_takes_the_fast_path(server: Server, connect: Connect) -> None:
    await server.room("circle")
    sender = await connect((await server.session())[0])
    reader = await connect((await server.session())[0])
    await sender.join("circle")
    await reader.join("circle")
    before_direct, before_queued = direct(), queued()
    for i in range(5):
        assert (await sender.send("circle", f"fast {i}"))["ok"]
    await reader.wait_for("message:new", lambda d: d["text"] == "fast 4")
    assert direct() - before_direct >= 5  # written straight to the idle websockets
    assert queued() - before_queued < 10  # and not everything went through the queues


@pytest.mark.parametrize("size", [64 * 1024, 70_000, 300_000])
async def test_frames_of_64_kib_and_more_on_both_paths(server: Server, connect: Connect, size: int) -> None:
    """The direct path builds the 127-length frame header itself; the queued path goes through aiohttp."""
    await server.room("circle")
    ws_client = await connect((await server.session())[0])
    await ws_client.join("circle")
    token, _ = await server.session()
    got: list[Any] = []
    poller = await _polling_client(server.url, token, got, "big")
    try:
        assert (await poller.call("room:join", {"room": "circle"}, timeout=5))["ok"]
        sio = server.app[DRAIN].server
        body = {"blob": "é" + "x" * (size - 1)}  # a multi-byte character: the length is in bytes
        before_direct, before_queued = direct(), queued()
        await sio.emit("big", body, room=wire.channel("circle"))
        assert await ws_client.wait_for("big") == body
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.05)
        assert got == [body]
        assert direct() - before_direct == 1  # the websocket client
        assert queued() - before_queued == 1  # the long-polling client
    finally:
        await poller.disconnect()


@pytest.mark.parametrize("store_kind", ["sqlite"])
async def test_a_changed_library_falls_back_to_the_stock_path_with_one_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, store_kind: str
) -> None:
    monkeypatch.setattr(compat, "REQUIRED", [*compat.REQUIRED, ("socketio.AsyncServer._gone", object, "_gone")])
    caplog.set_level(logging.INFO)
    srv = await start_server(make_config(tmp_path))
    clients: list[socketio.AsyncClient] = []
    try:
        from tests.conftest import open_client

        holder: list[Any] = []
        sender = await open_client(srv.url, (await srv.session())[0], holder)
        reader = await open_client(srv.url, (await srv.session())[0], holder)
        clients = [c.sio for c in holder]
        await srv.room("circle")
        await sender.join("circle")
        await reader.join("circle")
        before = direct()
        for i in range(3):
            assert (await sender.send("circle", f"slow {i}"))["ok"]
        await reader.wait_for("message:new", lambda d: d["text"] == "slow 2")
        big = {"blob": "y" * 70_000}  # a 64 KiB+ frame through the queue and aiohttp's websocket writer
        await srv.app[DRAIN].server.emit("big", big, room=wire.channel("circle"))
        assert await reader.wait_for("big") == big
        assert direct() == before
        warnings = [r.getMessage() for r in caplog.records if "transport_fast_path" in r.getMessage()]
        assert len(warnings) == 1 and "socketio.AsyncServer._gone" in warnings[0]
    finally:
        for sio in clients:
            await sio.disconnect()
        await srv.runner.cleanup()


def test_the_installed_libraries_pass_the_start_up_check() -> None:
    server = socketio.AsyncServer(async_mode="aiohttp")
    assert compat.missing_names(server) == []


def test_nothing_process_wide_is_patched() -> None:
    """Creating Hearth's server leaves python-engineio's classes and driver table as they were."""
    from engineio import async_socket
    from engineio.async_drivers import aiohttp as aiohttp_driver

    poll, websocket = async_socket.AsyncSocket.poll, aiohttp_driver._async["websocket"]
    from server.transport import TransportServer

    ours = TransportServer()
    assert async_socket.AsyncSocket.poll is poll
    assert aiohttp_driver._async["websocket"] is websocket
    assert ours.eio._async["websocket"] is not websocket
    stock = socketio.AsyncServer(async_mode="aiohttp")
    assert stock.eio._async["websocket"] is websocket
