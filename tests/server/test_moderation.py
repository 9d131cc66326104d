"""Live moderation over real sockets: mute, unmute, remove and ban, delete, locked rooms and slow mode."""

from __future__ import annotations

import pytest

from rooms.clock import ManualClock
from tests.conftest import Client, Connect, Server


@pytest.fixture
def server(clocked_server: Server) -> Server:
    """Every test here runs on a server whose clock only moves when a test moves it."""
    return clocked_server


async def _room_with_peer(server: Server, connect: Connect) -> tuple[Client, Client, dict, Client]:
    await server.room("circle")
    fac = await connect(await server.staff("fran"))
    await fac.join("circle")
    token, _ = await server.session("Quiet Heron")
    peer = await connect(token)
    you = (await peer.join("circle"))["you"]
    watcher = await connect((await server.session("Calm Lake"))[0])
    await watcher.join("circle")
    return fac, peer, you, watcher


async def test_mute_blocks_sending_and_unmute_restores(server: Server, connect: Connect) -> None:
    fac, peer, you, watcher = await _room_with_peer(server, connect)
    ack = await fac.call("mod:mute", {"room": "circle", "member": you["id"], "reason": "cool down"})
    assert ack == {"ok": True, "until": None}
    muted = await watcher.wait_for("member:muted")
    assert muted == {"room": "circle", "member_id": you["id"], "until": None, "reason": "cool down"}
    await peer.wait_for("member:muted")
    send = await peer.send("circle", "hello?")
    assert send["error"]["code"] == "muted" and send["error"]["until"] is None
    rejoined = await peer.call("room:join", {"room": "circle"})
    assert rejoined["mute"] == {"until": None, "reason": "cool down"}  # extension: the join ack tells a muted member
    assert (await fac.call("mod:unmute", {"room": "circle", "member": you["id"]})) == {"ok": True}
    assert (await watcher.wait_for("member:unmuted")) == {"room": "circle", "member_id": you["id"]}
    assert (await peer.send("circle", "back"))["ok"]
    assert (await peer.join("circle"))["mute"] is None


async def test_timed_mute_ends_by_itself(server: Server, connect: Connect, clock: ManualClock) -> None:
    fac, peer, you, _ = await _room_with_peer(server, connect)
    ack = await fac.call("mod:mute", {"room": "circle", "member": you["id"], "duration_s": 60})
    assert ack["ok"] and ack["until"] == clock.now_ms() + 60_000
    send = await peer.send("circle", "now?")
    assert send["error"]["code"] == "muted" and send["error"]["until"] == ack["until"]
    clock.advance(59_999)
    assert (await peer.send("circle", "not yet"))["error"]["code"] == "muted"
    assert (await peer.join("circle"))["mute"] == {"until": ack["until"]}
    clock.advance(1)
    assert (await peer.send("circle", "and now?"))["ok"]
    assert (await peer.join("circle"))["mute"] is None


async def test_peer_cannot_moderate(server: Server, connect: Connect) -> None:
    fac, peer, you, watcher = await _room_with_peer(server, connect)
    for event, payload in (
        ("mod:mute", {"room": "circle", "member": you["id"]}),
        ("mod:unmute", {"room": "circle", "member": you["id"]}),
        ("mod:remove", {"room": "circle", "member": you["id"]}),
        ("mod:delete", {"room": "circle", "message_id": "x"}),
    ):
        ack = await watcher.call(event, payload)
        assert ack["error"]["code"] == "forbidden", event


async def test_facilitator_cannot_act_on_staff_but_admin_can(server: Server, connect: Connect) -> None:
    await server.room("circle")
    fac = await connect(await server.staff("fran"))
    fac_you = (await fac.join("circle"))["you"]
    admin = await connect(await server.login())
    admin_you = (await admin.join("circle"))["you"]
    ack = await fac.call("mod:mute", {"room": "circle", "member": admin_you["id"]})
    assert ack["error"]["code"] == "forbidden"
    other = await connect(await server.staff("gale"))
    ack = await other.call("mod:remove", {"room": "circle", "member": fac_you["id"]})
    assert ack["error"]["code"] == "forbidden"
    ack = await admin.call("mod:mute", {"room": "circle", "member": fac_you["id"], "duration_s": 60})
    assert ack["ok"]


async def test_mod_unknown_room_or_member_is_not_found(server: Server, connect: Connect) -> None:
    fac, peer, you, _ = await _room_with_peer(server, connect)
    assert (await fac.call("mod:mute", {"room": "nowhere", "member": you["id"]}))["error"]["code"] == "not_found"
    assert (await fac.call("mod:mute", {"room": "circle", "member": "m_nobody"}))["error"]["code"] == "not_found"
    assert (await fac.call("mod:delete", {"room": "circle", "message_id": "gone"}))["error"]["code"] == "not_found"
    bad = await fac.call("mod:mute", {"room": "circle", "member": you["id"], "duration_s": "ten"})
    assert bad["error"]["code"] == "invalid"


async def test_moderator_need_not_join_and_target_may_be_offline(server: Server, connect: Connect) -> None:
    await server.room("circle")
    token, _ = await server.session()
    peer = await connect(token)
    you = (await peer.join("circle"))["you"]
    await peer.sio.disconnect()
    fac = await connect(await server.staff("fran"))
    ack = await fac.call("mod:remove", {"room": "circle", "member": you["id"], "ban_s": 3600})
    assert ack["ok"] and ack["banned_until"] > 0
    again = await connect(token)
    join = await again.call("room:join", {"room": "circle"})
    assert join["error"]["code"] == "banned" and join["error"]["until"] == ack["banned_until"]


async def test_remove_kicks_every_socket_of_the_member(server: Server, connect: Connect) -> None:
    await server.room("circle")
    fac = await connect(await server.staff("fran"))
    token, _ = await server.session()
    s1 = await connect(token)
    s2 = await connect(token)
    you = (await s1.join("circle"))["you"]
    await s2.join("circle")
    watcher = await connect((await server.session())[0])
    await watcher.join("circle")
    ack = await fac.call("mod:remove", {"room": "circle", "member": you["id"], "reason": "harassment"})
    assert ack == {"ok": True, "banned_until": None}
    for sock in (s1, s2):
        removed = await sock.wait_for("room:removed")
        assert removed["room"] == "circle" and removed["banned_until"] is None
    left = await watcher.wait_for("member:left")
    assert left == {"room": "circle", "member_id": you["id"], "reason": "removed"}
    # Nothing more reaches them from the room, and they can no longer send.
    assert (await watcher.send("circle", "after removal"))["ok"]
    await watcher.wait_for("message:new", lambda m: m["text"] == "after removal")
    assert (await s1.send("circle", "still here?"))["error"]["code"] == "not_member"
    assert all(m["text"] != "after removal" for m in s1.events["message:new"] + s2.events["message:new"])
    # Without a ban they may come back.
    assert (await s1.call("room:join", {"room": "circle"}))["ok"]


async def test_delete_removes_message_from_room_and_history(server: Server, connect: Connect) -> None:
    fac, peer, you, watcher = await _room_with_peer(server, connect)
    msg = (await peer.send("circle", "regrettable"))["message"]
    assert (await fac.call("mod:delete", {"room": "circle", "message_id": msg["id"]})) == {"ok": True}
    assert (await watcher.wait_for("message:deleted")) == {"room": "circle", "message_id": msg["id"]}
    late = await connect((await server.session())[0])
    history = (await late.join("circle"))["history"]
    assert all(m["id"] != msg["id"] for m in history)
    again = await fac.call("mod:delete", {"room": "circle", "message_id": msg["id"]})
    assert again["error"]["code"] == "not_found"


async def test_locked_room_refuses_peers_but_not_staff(server: Server, connect: Connect) -> None:
    fac, peer, you, watcher = await _room_with_peer(server, connect)
    admin = await server.login()
    status, room = await server.patch("/api/rooms/circle", {"locked": True}, admin)
    assert status == 200 and room["locked"]
    await peer.wait_for("room:updated", lambda r: r["locked"])
    assert (await peer.send("circle", "hi"))["error"]["code"] == "room_locked"
    newcomer = await connect((await server.session())[0])
    assert (await newcomer.call("room:join", {"room": "circle"}))["error"]["code"] == "room_locked"
    assert (await fac.send("circle", "staff still talk"))["ok"]
    await peer.wait_for("message:new", lambda m: m["text"] == "staff still talk")


async def test_slow_mode(server: Server, connect: Connect) -> None:
    fac, peer, you, watcher = await _room_with_peer(server, connect)
    status, room = await server.patch("/api/rooms/circle", {"slow_mode_s": 30}, await server.login())
    assert status == 200 and room["slow_mode_s"] == 30
    assert (await peer.send("circle", "first"))["ok"]
    slow = await peer.send("circle", "second")
    assert slow["error"]["code"] == "slow_mode" and 0 < slow["error"]["retry_after_ms"] <= 30_000
    assert (await fac.send("circle", "staff exempt"))["ok"]
    assert (await fac.send("circle", "staff exempt again"))["ok"]


async def test_audit_records_actions_without_text(server: Server, connect: Connect) -> None:
    fac, peer, you, watcher = await _room_with_peer(server, connect)
    msg = (await peer.send("circle", "SECRET-MARKER-TEXT"))["message"]
    await fac.call("mod:mute", {"room": "circle", "member": you["id"], "duration_s": 60, "reason": "calm"})
    await fac.call("mod:unmute", {"room": "circle", "member": you["id"]})
    await fac.call("mod:delete", {"room": "circle", "message_id": msg["id"]})
    await fac.call("mod:remove", {"room": "circle", "member": you["id"]})
    admin = await server.login()
    status, body = await server.get("/api/admin/audit?room=circle", admin)
    assert status == 200
    actions = [e["action"] for e in body["entries"]]
    assert actions[:4] == ["remove", "delete", "unmute", "mute"]
    assert "room.create" in actions
    assert body["entries"][0]["actor"] == "fran" and body["entries"][0]["target"] == you["id"]
    assert "SECRET-MARKER-TEXT" not in str(body)
    status, body = await server.get("/api/admin/audit?limit=2", admin)
    assert len(body["entries"]) == 2
    status, body = await server.get("/api/admin/audit?limit=5000", admin)
    assert status == 400
    status, body = await server.get("/api/admin/audit", await server.staff("gale"))
    assert status == 403
