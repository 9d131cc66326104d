"""Bad input never crashes a handler, never goes unanswered, and never disturbs other clients."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import Connect, Server

EVENTS = [
    "room:join",
    "room:leave",
    "message:send",
    "message:flag",
    "mod:mute",
    "mod:unmute",
    "mod:remove",
    "mod:delete",
]
BAD_PAYLOADS = [
    None,
    0,
    "circle",
    ["circle"],
    True,
    {},
    {"room": None},
    {"room": 5},
    {"room": ["circle"]},
    {"room": "circle", "text": None},
    {"room": "circle", "text": {"a": 1}},
    {"room": "x" * 100_000},
    {"room": "circle", "text": "x" * 100_000},
    {"room": "circle", "member": 5, "message_id": []},
]


@pytest.mark.parametrize("event", EVENTS)
async def test_bad_payloads_get_an_error_ack_and_others_keep_going(
    server: Server, connect: Connect, event: str
) -> None:
    await server.room("circle")
    bystander = await connect((await server.session())[0])
    await bystander.join("circle")
    fac = await connect(await server.staff("fran"))
    await fac.join("circle")
    for payload in BAD_PAYLOADS:
        if event.startswith("room:") and isinstance(payload, dict) and payload.get("room") == "circle":
            continue  # a valid room: joining or leaving it is not an error
        ack = await fac.call(event, payload)
        assert ack["ok"] is False, (event, payload)
        assert ack["error"]["code"] in {"invalid", "not_found", "not_member"}, (event, payload, ack)
        assert isinstance(ack["error"]["message"], str)
        assert ack["error"]["message"].count("`") % 2 == 0, ack  # no half of msgspec's "at `$.field`" left
    assert (await fac.send("circle", "still serving"))["ok"]
    await bystander.wait_for("message:new", lambda m: m["text"] == "still serving")


async def test_extra_arguments_are_still_acked(server: Server, connect: Connect) -> None:
    await server.room("circle")
    a = await connect((await server.session())[0])
    ack = await a.sio.call("room:join", ({"room": "circle"}, "extra", 3), timeout=5)
    assert ack["ok"] is True


@pytest.mark.parametrize("event", ["no:such:event", "connect", "disconnect", "message", "ROOM:JOIN"])
async def test_unknown_and_reserved_events_are_invalid(server: Server, connect: Connect, event: str) -> None:
    await server.room("circle")
    a = await connect((await server.session())[0])
    await a.join("circle")
    ack = await a.call(event, {"room": "circle"})
    assert ack["ok"] is False and ack["error"]["code"] == "invalid"
    # State is untouched: still connected, still a member, can still send.
    assert a.sio.connected
    assert (await a.send("circle", "fine"))["ok"]


async def test_unknown_event_without_ack_is_ignored(server: Server, connect: Connect) -> None:
    await server.room("circle")
    a = await connect((await server.session())[0])
    await a.join("circle")
    await a.sio.emit("disconnect", {"room": "circle"})
    await a.sio.emit("whatever", "data")
    assert (await a.send("circle", "still here"))["ok"]


async def test_logs_never_contain_text_or_pseudonyms(
    server: Server, connect: Connect, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await server.room("circle")
    token, _ = await server.session("Zebra Lantern")
    peer = await connect(token)
    you = (await peer.join("circle"))["you"]
    assert (await peer.send("circle", "MARKER-TEXT-4711"))["ok"]
    fac = await connect(await server.staff("fran"))
    await fac.call("mod:mute", {"room": "circle", "member": you["id"], "reason": "x"})
    assert (await peer.send("circle", "MARKER-TEXT-4712"))["error"]["code"] == "muted"
    await peer.call("message:send", {"room": "circle", "text": None})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "event=" in logged  # the server did log, and:
    for secret in ("MARKER-TEXT", "Zebra Lantern", token):
        assert secret not in logged


async def test_websockets_are_not_compressed(server: Server) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(server.url + "/socket.io/?EIO=4&transport=websocket", compress=15) as ws:
            assert "Sec-WebSocket-Extensions" not in ws._response.headers  # permessage-deflate declined
            assert ws.compress == 0
            opened = await ws.receive_str()
            assert opened.startswith("0{")
