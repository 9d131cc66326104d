"""One real-time run of expiry: a 60-second room, with the real clock and the real purge task."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from server.config import Config
from tests.conftest import Server, start_server
from tests.server.test_sealing import _redis_bytes, _sqlite_bytes


@pytest.fixture
async def fast_purge_server(config: Config) -> AsyncIterator[Server]:
    srv = await start_server(config.replace(purge_interval_s=2.0))
    yield srv
    await srv.runner.cleanup()


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_sixty_second_room_forgets_on_time(fast_purge_server: Server, config: Config) -> None:
    server = fast_purge_server
    from tests.conftest import open_client

    clients: list = []
    destroyed_before = _destroyed_keys((await server.get("/metrics"))[1])
    try:
        await server.room("brief", message_ttl_s=60)
        peer = await open_client(server.url, (await server.session())[0], clients)
        await peer.join("brief")
        msg = (await peer.send("brief", "gone in a minute"))["message"]
        assert msg["expires_at"] == msg["ts"] + 60_000
        # Just before expiry it is still there.
        await asyncio.sleep(max(0.0, (msg["expires_at"] - 2000) / 1000 - time.time()))
        late = await open_client(server.url, (await server.session())[0], clients)
        assert [m["id"] for m in (await late.join("brief"))["history"]] == [msg["id"]]
        # From expires_at on, it is never returned again...
        await asyncio.sleep(max(0.0, msg["expires_at"] / 1000 - time.time()) + 0.05)
        later = await open_client(server.url, (await server.session())[0], clients)
        assert (await later.join("brief"))["history"] == []
        flag = await later.call("message:flag", {"room": "brief", "message_id": msg["id"], "reason": "x"})
        assert flag["error"]["code"] == "not_found"
        # ...and within the purge interval it and its key are gone from the store itself.
        deadline = time.monotonic() + 30
        while True:
            raw = _sqlite_bytes(config.data_dir) if config.redis_url is None else await _redis_bytes(config.redis_url)
            if msg["id"].encode() not in raw or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        assert msg["id"].encode() not in raw
        status, metrics = await server.get("/metrics")
        assert _destroyed_keys(metrics) == destroyed_before + 1  # the counter is per process
    finally:
        for c in clients:
            await c.sio.disconnect()


def _destroyed_keys(metrics: str) -> float:
    for line in metrics.splitlines():
        if line.startswith("hearth_destroyed_keys_total "):
            return float(line.split()[1])
    raise AssertionError("hearth_destroyed_keys_total missing from /metrics")
