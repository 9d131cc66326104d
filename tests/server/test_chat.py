"""Joining, sending and leaving over real Socket.IO connections."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Connect, Server


async def test_two_clients_see_each_others_messages(server: Server, connect: Connect) -> None:
    await server.room("circle")
    token_a, ident_a = await server.session("River Otter")
    token_b, _ = await server.session("Quiet Heron")
    a = await connect(token_a)
    b = await connect(token_b)
    join_a = await a.join("circle")
    join_b = await b.join("circle")

    assert join_a["room"]["id"] == "circle"
    assert join_a["room"]["message_ttl_s"] == 86400
    assert join_a["you"]["pseudonym"] == "River Otter"
    assert join_a["you"]["role"] == "peer"
    assert join_a["you"]["id"] != ident_a["id"]
    assert {m["pseudonym"] for m in join_b["members"]} == {"River Otter", "Quiet Heron"}
    assert join_b["room"]["members"] == 2
    joined = await a.wait_for("member:joined", lambda d: d["member"]["id"] == join_b["you"]["id"])
    assert joined["room"] == "circle"

    ack = await a.send("circle", "hello there", client_id="c-1")
    assert ack["ok"], ack
    msg = ack["message"]
    assert msg["text"] == "hello there"
    assert msg["client_id"] == "c-1"
    assert msg["author"] == join_a["you"]
    assert msg["expires_at"] - msg["ts"] == 86400 * 1000
    got_b = await b.wait_for("message:new")
    got_a = await a.wait_for("message:new")
    assert got_b == msg == got_a


async def test_history_oldest_first_and_member_ids_stable(server: Server, connect: Connect) -> None:
    await server.room("circle")
    token, _ = await server.session()
    a = await connect(token)
    first = await a.join("circle")
    for text in ("one", "two", "three"):
        assert (await a.send("circle", text))["ok"]
    await a.sio.disconnect()
    again = await connect(token)
    ack = await again.join("circle")
    assert [m["text"] for m in ack["history"]] == ["one", "two", "three"]
    assert ack["you"] == first["you"]


async def test_member_ids_differ_between_rooms(server: Server, connect: Connect) -> None:
    await server.room("circle")
    await server.room("garden")
    token, _ = await server.session()
    a = await connect(token)
    one = await a.join("circle")
    two = await a.join("garden")
    assert one["you"]["id"] != two["you"]["id"]


async def test_leave_and_not_member(server: Server, connect: Connect) -> None:
    await server.room("circle")
    a = await connect((await server.session())[0])
    b = await connect((await server.session())[0])
    ack_a = await a.join("circle")
    await b.join("circle")
    assert (await a.call("room:leave", {"room": "circle"})) == {"ok": True}
    left = await b.wait_for("member:left")
    assert left == {"room": "circle", "member_id": ack_a["you"]["id"], "reason": "left"}
    again = await a.call("room:leave", {"room": "circle"})
    assert again["ok"] is False and again["error"]["code"] == "not_member"
    send = await a.send("circle", "hi")
    assert send["error"]["code"] == "not_member"


async def test_disconnect_sends_member_left_only_after_last_socket(server: Server, connect: Connect) -> None:
    await server.room("circle")
    token, _ = await server.session()
    a1 = await connect(token)
    a2 = await connect(token)
    watcher = await connect((await server.session())[0])
    await watcher.join("circle")
    you = (await a1.join("circle"))["you"]
    await a2.join("circle")
    await watcher.wait_for("member:joined", lambda e: e["member"]["id"] == you["id"])
    await a1.sio.disconnect()
    await a2.sio.disconnect()
    left = await watcher.wait_for("member:left")
    assert left == {"room": "circle", "member_id": you["id"], "reason": "disconnected"}
    assert len([e for e in watcher.events["member:joined"] if e["member"]["id"] == you["id"]]) == 1
    assert len(watcher.events["member:left"]) == 1


async def test_join_unknown_room_is_not_found(server: Server, connect: Connect) -> None:
    a = await connect((await server.session())[0])
    ack = await a.call("room:join", {"room": "nowhere"})
    assert ack["ok"] is False and ack["error"]["code"] == "not_found"


async def test_send_limit_burst_then_rate_limited(server: Server, connect: Connect) -> None:
    await server.room("circle")
    a = await connect((await server.session())[0])
    await a.join("circle")
    for i in range(5):
        assert (await a.send("circle", f"m{i}"))["ok"]
    ack = await a.send("circle", "one too many")
    assert ack["error"]["code"] == "rate_limited"
    assert 0 < ack["error"]["retry_after_ms"] <= 2000


async def test_refused_sends_do_not_use_the_limit(server: Server, connect: Connect) -> None:
    await server.room("circle")
    a = await connect((await server.session())[0])
    await a.join("circle")
    for _ in range(10):
        assert (await a.send("circle", "   "))["error"]["code"] == "invalid"
    for i in range(5):
        assert (await a.send("circle", f"m{i}"))["ok"]


async def test_staff_are_exempt_from_the_send_limit(server: Server, connect: Connect) -> None:
    await server.room("circle")
    staff = await connect(await server.staff("fran"))
    ack = await staff.join("circle")
    assert ack["you"]["role"] == "facilitator"
    for i in range(12):
        assert (await staff.send("circle", f"m{i}"))["ok"]


async def test_capacity_counts_distinct_peers(server: Server, connect: Connect) -> None:
    await server.room("small", capacity=1)
    token, _ = await server.session()
    a1 = await connect(token)
    a2 = await connect(token)
    await a1.join("small")
    await a2.join("small")  # the same peer's second socket is not a second peer
    b = await connect((await server.session())[0])
    ack = await b.call("room:join", {"room": "small"})
    assert ack["error"]["code"] == "room_full"
    staff = await connect(await server.staff("fran"))
    assert (await staff.call("room:join", {"room": "small"}))["ok"]


async def test_text_is_normalised(server: Server, connect: Connect) -> None:
    await server.room("circle")
    a = await connect((await server.session())[0])
    await a.join("circle")
    ack = await a.send("circle", "  cafe\u0301\u202e bell\x07 \n line\t2  ")
    assert ack["message"]["text"] == "caf\u00e9 bell \n line\t2"
    assert (await a.send("circle", "x" * 2000))["ok"]
    too_long = await a.send("circle", "x" * 2001)
    assert too_long["error"]["code"] == "invalid"
    zwj = "\U0001f469\u200d\U0001f4bb"
    assert (await a.send("circle", zwj))["message"]["text"] == zwj


@pytest.mark.parametrize("client_id", [123, "x" * 65, ["a"]])
async def test_bad_client_id_is_invalid(server: Server, connect: Connect, client_id: object) -> None:
    await server.room("circle")
    a = await connect((await server.session())[0])
    await a.join("circle")
    ack = await a.call("message:send", {"room": "circle", "text": "hi", "client_id": client_id})
    assert ack["error"]["code"] == "invalid"


async def test_restart_keeps_rooms_and_history(config, connect: Connect) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import open_client, start_server

    first = await start_server(config)
    await first.room("circle")
    token, _ = await first.session()
    clients: list = []
    a = await open_client(first.url, token, clients)
    await a.join("circle")
    assert (await a.send("circle", "still here"))["ok"]
    await a.sio.disconnect()
    await first.runner.cleanup()

    second = await start_server(config)
    try:
        b = await open_client(second.url, token, clients)
        ack = await b.join("circle")
        assert [m["text"] for m in ack["history"]] == ["still here"]
        await b.sio.disconnect()
    finally:
        await second.runner.cleanup()


async def test_broadcasts_keep_order_for_one_sender(server: Server, connect: Connect) -> None:
    await server.room("circle")
    staff = await connect(await server.staff("fran"))
    watcher = await connect((await server.session())[0])
    await staff.join("circle")
    await watcher.join("circle")
    texts = [f"n{i}" for i in range(30)]
    await asyncio.gather(*(staff.sio.emit("message:send", {"room": "circle", "text": t}) for t in texts))
    await watcher.wait_for("message:new", lambda d: d["text"] == "n29")
    assert [m["text"] for m in watcher.events["message:new"]] == texts


async def test_a_client_upgrading_from_polling_gets_every_broadcast_in_order(server: Server, connect: Connect) -> None:
    """Broadcasts take a direct path to settled websockets and the queue otherwise; both keep order."""
    import socketio

    await server.room("circle")
    staff = await connect(await server.staff("fran"))
    await staff.join("circle")
    token, _ = await server.session()
    sio = socketio.AsyncClient(reconnection=False)
    got: list[str] = []
    done = asyncio.Event()

    @sio.on("message:new")
    async def on_new(msg: dict) -> None:
        got.append(msg["text"])
        if msg["text"] == "n19":
            done.set()

    await sio.connect(server.url, auth={"token": token}, transports=["polling", "websocket"], wait_timeout=5)
    try:
        assert (await sio.call("room:join", {"room": "circle"}, timeout=5))["ok"]
        for i in range(20):
            assert (await staff.send("circle", f"n{i}"))["ok"]
        await asyncio.wait_for(done.wait(), 10)
        assert got == [f"n{i}" for i in range(20)]
    finally:
        await sio.disconnect()


async def test_a_message_sent_while_someone_joins_reaches_them(server: Server, connect: Connect) -> None:
    """Sent after the joiner's history was read but before their join finished: it still arrives,
    in the history or live (the joiner was refused neither), and once as they see it (by id)."""
    from server.app import SERVICES

    await server.room("circle")
    sender = await connect((await server.session())[0])
    await sender.join("circle")
    joiner = await connect((await server.session())[0])
    store = server.app[SERVICES].rooms.store
    read_history = store.history
    acks: list[dict[str, object]] = []

    async def history_then_a_message(*args: object, **kwargs: object) -> object:
        rows = await read_history(*args, **kwargs)  # type: ignore[arg-type]
        acks.append(await sender.send("circle", "sent during the join"))  # stored after the read
        return rows

    store.history = history_then_a_message  # type: ignore[method-assign]
    try:
        ack = await joiner.join("circle")
    finally:
        store.history = read_history  # type: ignore[method-assign]
    assert acks and acks[0]["ok"], acks
    sent_id = acks[0]["message"]["id"]  # type: ignore[index]
    in_history = [m["id"] for m in ack["history"]]
    live = await joiner.wait_for("message:new", lambda m: m["id"] == sent_id, timeout=5)
    assert live["text"] == "sent during the join" and sent_id not in in_history
