"""Peers' own expressions over the wire, on both stores: replies, supportive reactions, deleting
one's own message, and typing cues (docs/PROTOCOL.md "Extensions")."""

from __future__ import annotations

import pytest

from tests.conftest import Client, Connect, Server


async def _peers(server: Server, connect: Connect, *names: str) -> list[Client]:
    await server.room("circle")
    clients = []
    for name in names:
        token, _ = await server.session(name)
        client = await connect(token)
        await client.join("circle")
        clients.append(client)
    return clients


async def test_reply_carries_the_original_id_to_everyone_and_into_history(server: Server, connect: Connect) -> None:
    river, lake = await _peers(server, connect, "River Otter", "Calm Lake")
    original = (await river.send("circle", "Evenings are hard for me."))["message"]
    assert original["reply_to"] is None
    ack = await lake.send("circle", "Same here. You're not alone.", reply_to=original["id"])
    assert ack["ok"], ack
    reply = ack["message"]
    assert reply["reply_to"] == original["id"]
    assert (await river.wait_for("message:new", lambda m: m["id"] == reply["id"]))["reply_to"] == original["id"]

    token, _ = await server.session("Late Heron")
    late = await connect(token)
    history = (await late.join("circle"))["history"]
    assert [(m["text"], m["reply_to"]) for m in history] == [
        ("Evenings are hard for me.", None),
        ("Same here. You're not alone.", original["id"]),
    ]


async def test_reply_to_a_missing_message_is_refused(server: Server, connect: Connect) -> None:
    (river,) = await _peers(server, connect, "River Otter")
    ack = await river.send("circle", "answering nothing", reply_to="0000000000000000000000000")
    assert ack["ok"] is False and ack["error"]["code"] == "not_found"
    ack = await river.send("circle", "bad id", reply_to=7)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid"
    assert "reply_to" in ack["error"]["message"]
    # A refused reply does not use up the send allowance or appear anywhere.
    history = (await river.join("circle"))["history"]
    assert history == []


async def test_reactions_count_toggle_and_reach_everyone(server: Server, connect: Connect) -> None:
    river, lake, heron = await _peers(server, connect, "River Otter", "Calm Lake", "Grey Heron")
    msg = (await river.send("circle", "I made it through today."))["message"]

    ack = await lake.call("message:react", {"room": "circle", "message_id": msg["id"], "reaction": "hear_you"})
    assert ack == {"ok": True, "reactions": {"hear_you": 1}, "reacted": ["hear_you"]}
    seen = await river.wait_for("message:reacted", lambda e: e["reactions"] == {"hear_you": 1})
    assert seen == {"room": "circle", "message_id": msg["id"], "reactions": {"hear_you": 1}}

    # The same reaction twice counts once; another member's adds up; a second kind is separate.
    ack = await lake.call("message:react", {"room": "circle", "message_id": msg["id"], "reaction": "hear_you"})
    assert ack["reactions"] == {"hear_you": 1}
    ack = await heron.call("message:react", {"room": "circle", "message_id": msg["id"], "reaction": "hear_you"})
    assert ack["reactions"] == {"hear_you": 2} and ack["reacted"] == ["hear_you"]
    ack = await heron.call("message:react", {"room": "circle", "message_id": msg["id"], "reaction": "strength"})
    assert ack["reactions"] == {"hear_you": 2, "strength": 1} and ack["reacted"] == ["hear_you", "strength"]

    # Taking one back.
    ack = await lake.call(
        "message:react", {"room": "circle", "message_id": msg["id"], "reaction": "hear_you", "on": False}
    )
    assert ack == {"ok": True, "reactions": {"hear_you": 1, "strength": 1}, "reacted": []}
    await heron.wait_for("message:reacted", lambda e: e["reactions"] == {"hear_you": 1, "strength": 1})

    # The join ack's history carries the counts, and which ones the joining member gave.
    history = (await heron.join("circle"))["history"]
    assert history[0]["reactions"] == {"hear_you": 1, "strength": 1}
    assert history[0]["reacted"] == ["hear_you", "strength"]
    token, _ = await server.session("Late Heron")
    late = await connect(token)
    history = (await late.join("circle"))["history"]
    assert history[0]["reactions"] == {"hear_you": 1, "strength": 1} and history[0]["reacted"] == []


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"reaction": "love"}, "invalid"),
        ({"reaction": "hear_you", "on": "yes"}, "invalid"),
        ({"reaction": "hear_you", "message_id": "0000000000000000000000000"}, "not_found"),
        ({"reaction": "hear_you", "room": "elsewhere"}, "not_member"),
    ],
)
async def test_bad_reactions_are_refused(
    server: Server, connect: Connect, payload: dict[str, object], code: str
) -> None:
    river, lake = await _peers(server, connect, "River Otter", "Calm Lake")
    msg = (await river.send("circle", "hello"))["message"]
    ack = await lake.call("message:react", {"room": "circle", "message_id": msg["id"], **payload})
    assert ack["ok"] is False and ack["error"]["code"] == code, ack


async def test_reactions_are_rate_limited(server: Server, connect: Connect) -> None:
    river, lake = await _peers(server, connect, "River Otter", "Calm Lake")
    msg = (await river.send("circle", "hello"))["message"]
    codes = []
    for i in range(14):
        ack = await lake.call(
            "message:react", {"room": "circle", "message_id": msg["id"], "reaction": "me_too", "on": i % 2 == 0}
        )
        codes.append("ok" if ack["ok"] else ack["error"]["code"])
    assert codes[:10] == ["ok"] * 10
    assert "rate_limited" in codes[10:]


async def test_author_deletes_own_message_and_its_reactions_go_too(server: Server, connect: Connect) -> None:
    river, lake = await _peers(server, connect, "River Otter", "Calm Lake")
    mine = (await river.send("circle", "I said too much"))["message"]
    theirs = (await lake.send("circle", "it's ok", reply_to=mine["id"]))["message"]
    await lake.call("message:react", {"room": "circle", "message_id": mine["id"], "reaction": "thank_you"})

    # Not someone else's.
    ack = await lake.call("message:delete", {"room": "circle", "message_id": mine["id"]})
    assert ack["ok"] is False and ack["error"]["code"] == "forbidden"

    ack = await river.call("message:delete", {"room": "circle", "message_id": mine["id"]})
    assert ack == {"ok": True}
    gone = {"room": "circle", "message_id": mine["id"]}
    assert await lake.wait_for("message:deleted", lambda e: e == gone) == gone
    history = (await lake.join("circle"))["history"]
    # The reply stays; it still names the original, which clients show as no longer available.
    assert [(m["id"], m["reply_to"]) for m in history] == [(theirs["id"], mine["id"])]
    ack = await lake.call("message:react", {"room": "circle", "message_id": mine["id"], "reaction": "thank_you"})
    assert ack["error"]["code"] == "not_found"
    ack = await river.call("message:delete", {"room": "circle", "message_id": mine["id"]})
    assert ack["error"]["code"] == "not_found"
    # Nor can a reply point at it any more.
    ack = await lake.send("circle", "late answer", reply_to=mine["id"])
    assert ack["error"]["code"] == "not_found"


async def test_staff_delete_others_with_mod_delete_not_message_delete(server: Server, connect: Connect) -> None:
    (river,) = await _peers(server, connect, "River Otter")
    msg = (await river.send("circle", "hello"))["message"]
    staff = await connect(await server.staff("fac"))
    await staff.join("circle")
    ack = await staff.call("message:delete", {"room": "circle", "message_id": msg["id"]})
    assert ack["error"]["code"] == "forbidden"
    assert (await staff.call("mod:delete", {"room": "circle", "message_id": msg["id"]}))["ok"]


async def test_typing_reaches_the_others_only_and_is_rate_limited(server: Server, connect: Connect) -> None:
    river, lake = await _peers(server, connect, "River Otter", "Calm Lake")
    you = (await river.join("circle"))["you"]
    assert await river.call("typing", {"room": "circle"}) == {"ok": True}
    cue = await lake.wait_for("member:typing")
    assert cue == {"room": "circle", "member_id": you["id"]}
    # Again at once: acked, but not passed on (at most one cue per member every 2 seconds).
    assert await river.call("typing", {"room": "circle"}) == {"ok": True}
    await river.send("circle", "a message goes out after the cue")
    await lake.wait_for("message:new")
    assert len(lake.events["member:typing"]) == 1
    assert river.events["member:typing"] == []  # never to the typist's own socket
    # After a message the next cue goes out at once.
    assert await river.call("typing", {"room": "circle"}) == {"ok": True}
    await lake.wait_for("member:typing", lambda e: e is not cue)
    assert len(lake.events["member:typing"]) == 2
    ack = await lake.call("typing", {"room": "elsewhere"})
    assert ack["error"]["code"] == "not_member"


async def test_a_muted_member_typing_tells_no_one(server: Server, connect: Connect) -> None:
    river, lake = await _peers(server, connect, "River Otter", "Calm Lake")
    you = (await river.join("circle"))["you"]
    staff = await connect(await server.staff("fac"))
    await staff.join("circle")
    assert (await staff.call("mod:mute", {"room": "circle", "member": you["id"]}))["ok"]
    await lake.wait_for("member:muted")
    assert await river.call("typing", {"room": "circle"}) == {"ok": True}
    assert (await lake.call("typing", {"room": "circle"}))["ok"]
    await river.wait_for("member:typing")  # lake's cue arrives
    # Had river's cue gone out, it would have reached lake before lake's own ack did.
    assert lake.events["member:typing"] == []
