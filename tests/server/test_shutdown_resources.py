"""A server that stops leaves nothing behind: every Redis connection it opened is closed.

A Socket.IO pub/sub listener left running held its connection past the end of the app (and
of the test's event loop), surfacing later as an unclosed-socket warning in some other test.
"""

from __future__ import annotations

from pathlib import Path

import redis

from tests.conftest import Client, make_config, open_client, start_server


def _connections(port: int) -> int:
    probe = redis.Redis(port=port)
    try:
        return len(probe.client_list()) - 1  # not counting the probe itself
    finally:
        probe.close()


async def test_every_redis_connection_is_closed_when_the_server_stops(redis_server: str, tmp_path: Path) -> None:
    port = int(redis_server.rsplit(":", 1)[1].split("/")[0])
    redis.Redis(port=port).flushdb()
    before = _connections(port)
    srv = await start_server(make_config(tmp_path, redis_server))
    clients: list[Client] = []
    try:
        await srv.room("circle")
        token, _ = await srv.session()
        peer = await open_client(srv.url, token, clients)
        await peer.join("circle")
        assert (await peer.send("circle", "hello"))["ok"]  # the pub/sub listener is up and publishing
        assert _connections(port) > before
        await peer.sio.disconnect()
    finally:
        await srv.runner.cleanup()
    assert _connections(port) == before
