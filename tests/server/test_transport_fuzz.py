"""A wire fuzzer: malformed Engine.IO and Socket.IO frames against the real server, while a canary chats.

Seeded, so a failure can be replayed. Each fuzz connection opens a raw websocket (or a
long-polling session), sometimes signs in, then sends a few hostile frames. Meanwhile a canary
member keeps sending to a room and a second canary must see every one of those messages, in
order; at the end the server still answers, and nothing it logged holds a traceback or more
than one line per connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import struct

import aiohttp
import pytest

from tests.conftest import Connect, Server
from tests.rawws import RawWebSocket

pytestmark = pytest.mark.slow
SEED = int(os.environ.get("HEARTH_FUZZ_SEED", "1409"))  # set it to replay or explore
CONNECTIONS = 160
WS = "/socket.io/?EIO=4&transport=websocket"
POLL = "/socket.io/?EIO=4&transport=polling"


def hostile_text(rng: random.Random) -> str:
    """One hostile Engine.IO/Socket.IO text frame."""
    valid = [
        '42["message:send",{"room":"circle","text":"x"}]',
        '420["room:join",{"room":"circle"}]',
        "40",
        '3"[1]',
        "2probe",
        "5",
        "41",
    ]
    choices = [
        lambda: "".join(chr(rng.randrange(0, 0x3000)) for _ in range(rng.randrange(0, 40))),
        lambda: (
            "4" + str(rng.randrange(0, 10)) + rng.choice(["", "-", "/", ",", "[", "{", "abc", "99999999999999999999"])
        ),
        lambda: "42" + "[" * rng.randrange(100, 5000) + "]" * rng.randrange(0, 100),  # deep nesting
        lambda: '42["message:send",{"room":"circle","text":"\\ud800"}]',  # a lone surrogate
        lambda: '42["' + "a" * rng.randrange(1, 200) + '",' + json.dumps(rng.random()) + "]",
        lambda: "42" + json.dumps(rng.choice([{}, "s", 1, None, True, [None], [1, 2], [[]], [{}]])),
        lambda: "43" + str(rng.randrange(0, 10**6)) + json.dumps(rng.choice([[], {}, "x", [1]])),
        lambda: str(rng.randrange(0, 10)) + str(rng.randrange(0, 10)) + "/" + "n" * rng.randrange(0, 50) + ",[]",
        lambda: "45" + str(rng.randrange(1, 9)) + '-["message:send",{"_placeholder":true,"num":0}]',
        lambda: "b" + "".join(rng.choice("ABCD=+/!") for _ in range(rng.randrange(0, 30))),
        lambda: rng.choice(valid)[: rng.randrange(0, 20)],  # truncated
        lambda: "".join(c if rng.random() > 0.2 else chr(rng.randrange(32, 127)) for c in rng.choice(valid)),
        lambda: "4" + "2" * rng.randrange(1, 3) + "[" + '"x",' * rng.randrange(1, 3000) + '"y"]',
        lambda: "\x1e".join(rng.choice(valid) for _ in range(rng.randrange(2, 20))),
    ]
    return rng.choice(choices)()


def hostile_frame(ws: RawWebSocket, rng: random.Random) -> None:
    roll = rng.random()
    if roll < 0.6:
        ws.send_text(hostile_text(rng))
    elif roll < 0.7:
        ws.send_binary(rng.randbytes(rng.randrange(0, 300)))
    elif roll < 0.75:
        ws.send_frame(0x1, b"\xff\xfe\x80 not utf-8")  # invalid UTF-8 in a text frame
    elif roll < 0.8:
        ws.send_frame(rng.choice([0x3, 0x4, 0xB, 0xF]), b"reserved opcode")
    elif roll < 0.85:
        ws.send_frame(0x0, b"continuation without a start")
    elif roll < 0.9:
        ws.send_frame(0x1, b'42["message:send",', fin=False)  # a fragment, never finished
    elif roll < 0.95:
        ws.writer.write(bytes([0x81, 0x7F]) + struct.pack("!Q", 2**40))  # a frame claiming 1 TiB
    else:
        ws.writer.write(rng.randbytes(rng.randrange(1, 64)))  # not even a frame


async def fuzz_websocket(server: Server, rng: random.Random, token: str | None) -> None:
    try:
        ws = await RawWebSocket.connect(server.url, WS)
    except (ConnectionError, OSError):
        return
    try:
        await ws.recv_text()
        if token is not None and rng.random() < 0.7:
            ws.send_text("40" + json.dumps({"token": token}))
            await asyncio.wait_for(ws.recv_text(), 2)
        for _ in range(rng.randrange(1, 6)):
            hostile_frame(ws, rng)
        await ws.writer.drain()
        await asyncio.wait_for(ws.closed(), 0.3)
    except (TimeoutError, ConnectionError, OSError):
        pass
    finally:
        await ws.aclose()


async def fuzz_polling(server: Server, rng: random.Random, http: aiohttp.ClientSession) -> None:
    async with http.get(server.url + POLL) as resp:
        sid = json.loads((await resp.text())[1:])["sid"]
    for _ in range(rng.randrange(1, 4)):
        headers = {"Content-Type": rng.choice(["text/plain", "application/octet-stream", "x/y"])}
        if rng.random() < 0.2:
            headers["Content-Encoding"] = "gzip"
        body = hostile_text(rng).encode("utf-8", "surrogatepass") if rng.random() < 0.8 else rng.randbytes(50)
        try:
            async with http.post(server.url + POLL + "&sid=" + sid, data=body, headers=headers) as resp:
                assert resp.status in (200, 400, 413, 415), resp.status
        except aiohttp.ServerDisconnectedError:  # a body aiohttp could not decode: the connection is closed
            assert "Content-Encoding" in headers


@pytest.mark.parametrize("store_kind", ["sqlite"])
async def test_fuzzed_frames_never_hurt_the_canary_or_the_server(
    server: Server, connect: Connect, caplog: pytest.LogCaptureFixture, store_kind: str
) -> None:
    caplog.set_level(logging.INFO)
    rng = random.Random(SEED)
    await server.room("circle")
    sender = await connect(await server.staff("canary"))  # staff: no send limit gets in the way
    listener = await connect((await server.session())[0])
    await sender.join("circle")
    await listener.join("circle")
    token, _ = await server.session()
    stop = asyncio.Event()
    sent: list[str] = []

    async def canary() -> None:
        i = 0
        while not stop.is_set():
            text = f"canary {i}"
            ack = await sender.send("circle", text)
            assert ack["ok"], ack
            sent.append(text)
            i += 1
            await asyncio.sleep(0.02)

    canary_task = asyncio.create_task(canary())
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http:
        for _batch in range(CONNECTIONS // 8):
            jobs = []
            for _ in range(8):
                if rng.random() < 0.8:
                    jobs.append(fuzz_websocket(server, random.Random(rng.random()), token))
                else:
                    jobs.append(fuzz_polling(server, random.Random(rng.random()), http))
            await asyncio.gather(*jobs)
            assert not canary_task.done(), canary_task
        stop.set()
        await canary_task
        status, _ = await server.get("/healthz")
        assert status == 200
    assert len(sent) > 10
    await listener.wait_for("message:new", lambda d: d["text"] == sent[-1], timeout=10)
    assert [m["text"] for m in listener.events["message:new"]] == sent
    tracebacks = [r.getMessage() for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not tracebacks, tracebacks[:3]
    transport_lines = [r.getMessage() for r in caplog.records if r.name.startswith(("server.transport", "engineio"))]
    assert len(transport_lines) <= CONNECTIONS + 4  # at most one per connection, plus a few fixed kinds
    for line in transport_lines:
        assert line.startswith("event=") and "\n" not in line
    print(f"fuzz: {CONNECTIONS} connections, {len(transport_lines)} transport log lines, canary {len(sent)} messages")
