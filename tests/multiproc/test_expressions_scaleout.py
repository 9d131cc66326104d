"""Replies, reactions, own deletions and typing cues cross processes (two `hearth` on one Redis)."""

from __future__ import annotations

from tests.multiproc.conftest import Cluster


async def test_expressions_cross_processes(cluster: Cluster) -> None:
    a, b = cluster.spawn(), cluster.spawn()
    await a.server().room("circle")
    river = await cluster.client(a, (await a.server().session("River Otter"))[0])
    lake = await cluster.client(b, (await b.server().session("Calm Lake"))[0])
    you = (await river.join("circle"))["you"]
    await lake.join("circle")

    assert await river.call("typing", {"room": "circle"}) == {"ok": True}
    assert await lake.wait_for("member:typing") == {"room": "circle", "member_id": you["id"]}

    msg = (await river.send("circle", "evenings are hard"))["message"]
    reply = (await lake.send("circle", "for me too", reply_to=msg["id"]))["message"]
    assert (await river.wait_for("message:new", lambda m: m["id"] == reply["id"]))["reply_to"] == msg["id"]

    ack = await lake.call("message:react", {"room": "circle", "message_id": msg["id"], "reaction": "me_too"})
    assert ack["reactions"] == {"me_too": 1}
    event = await river.wait_for("message:reacted")
    assert event == {"room": "circle", "message_id": msg["id"], "reactions": {"me_too": 1}}
    # Stored in Redis: a member joining on the other process sees the count.
    assert (await river.join("circle"))["history"][0]["reactions"] == {"me_too": 1}

    assert (await river.call("message:delete", {"room": "circle", "message_id": msg["id"]}))["ok"]
    assert await lake.wait_for("message:deleted") == {"room": "circle", "message_id": msg["id"]}
    history = (await lake.join("circle"))["history"]
    assert [m["id"] for m in history] == [reply["id"]]
