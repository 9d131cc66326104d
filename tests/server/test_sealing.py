"""Nothing readable at rest: message text and pseudonyms are sealed in both stores."""

from __future__ import annotations

import secrets
from pathlib import Path

from server.config import Config
from tests.conftest import Connect, Server


def _sqlite_bytes(data_dir: Path) -> bytes:
    blobs = b""
    for name in ("hearth.db", "hearth.db-wal", "hearth.db-shm"):
        path = data_dir / name
        if path.exists():
            blobs += path.read_bytes()
    assert blobs, "no database file found"
    return blobs


async def _redis_bytes(url: str) -> bytes:
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    out = []
    try:
        async for key in client.scan_iter(count=1000):
            out.append(key)
            kind = (await client.type(key)).decode()
            if kind == "string":
                out.append(await client.get(key) or b"")
            elif kind == "hash":
                for f, v in (await client.hgetall(key)).items():
                    out += [f, v]
            elif kind == "zset":
                out += [m for m, _ in await client.zrange(key, 0, -1, withscores=True)]
            elif kind == "set":
                out += list(await client.smembers(key))
            elif kind == "list":
                out += await client.lrange(key, 0, -1)
            elif kind == "stream":
                for _, fields in await client.xrange(key):
                    for f, v in fields.items():
                        out += [f, v]
    finally:
        await client.aclose()
    assert out, "no keys found"
    return b"\n".join(out)


async def test_marker_text_and_pseudonym_never_stored_readably(
    server: Server, connect: Connect, config: Config
) -> None:
    marker = "MARKER-" + secrets.token_hex(8)
    pseudonym = "Zq " + secrets.token_hex(4)
    await server.room("circle")
    peer = await connect((await server.session(pseudonym))[0])
    await peer.join("circle")
    msg = (await peer.send("circle", f"my secret is {marker}"))["message"]
    reporter_name = "Zr " + secrets.token_hex(4)
    reporter = await connect((await server.session(reporter_name))[0])
    await reporter.join("circle")
    assert (await reporter.call("message:flag", {"room": "circle", "message_id": msg["id"], "reason": "check"}))["ok"]
    if config.redis_url is None:
        raw = _sqlite_bytes(config.data_dir)
    else:
        raw = await _redis_bytes(config.redis_url)
    assert msg["id"].encode() in raw  # the scan does see the stored message...
    for needle in (marker, pseudonym, reporter_name):  # ...but never its text, its author's or reporter's pseudonym
        assert needle.encode() not in raw
        assert needle.encode("utf-16-le") not in raw
    # The flag's sealed snapshot still opens for review.
    status, body = await server.get("/api/admin/flags", await server.login())
    assert marker in body["flags"][0]["message"]["text"]
    assert body["flags"][0]["reporter_pseudonym"] == reporter_name  # sealed with the snapshot
