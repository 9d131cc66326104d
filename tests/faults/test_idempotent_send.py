"""`client_id` makes message:send idempotent per member, on both stores: one message, one broadcast."""

from __future__ import annotations

import asyncio

from tests.conftest import Connect, Server


async def test_a_resend_with_the_same_client_id_returns_the_stored_message(server: Server, connect: Connect) -> None:
    await server.room("circle")
    author = await connect((await server.session())[0])
    watcher = await connect((await server.session())[0])
    await author.join("circle")
    await watcher.join("circle")
    first = await author.send("circle", "only once", client_id="c-1")
    again = await author.send("circle", "only once", client_id="c-1")
    assert first["ok"] and again == first
    other = await author.send("circle", "another", client_id="c-2")
    assert other["ok"] and other["message"]["id"] != first["message"]["id"]
    await watcher.wait_for("message:new", lambda m: m["id"] == other["message"]["id"])
    await asyncio.sleep(0.2)  # a stray second broadcast would have arrived by now
    assert [m["id"] for m in watcher.events["message:new"]] == [first["message"]["id"], other["message"]["id"]]
    history = (await watcher.call("room:join", {"room": "circle"}))["history"]
    assert [m["text"] for m in history] == ["only once", "another"]


async def test_concurrent_resends_store_one_message(server: Server, connect: Connect) -> None:
    await server.room("circle")
    author = await connect(await server.staff("fran"))  # staff: no send limit
    await author.join("circle")
    acks = await asyncio.gather(*(author.send("circle", "burst", client_id="same") for _ in range(5)))
    assert all(a["ok"] for a in acks)
    assert len({a["message"]["id"] for a in acks}) == 1
    history = (await author.call("room:join", {"room": "circle"}))["history"]
    assert [m["text"] for m in history] == ["burst"]
