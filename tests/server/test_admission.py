"""Rules 24, 25 and 28 over the wire: waiting rooms, admit and deny, new identities, warnings."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import Client, Connect, Server


async def _waiting_room(server: Server) -> dict[str, object]:
    return await server.room("circle", admission="approval")


async def _peer(server: Server, connect: Connect, name: str) -> Client:
    token, _ = await server.session(name)
    return await connect(token)


async def test_waiting_peer_is_told_and_staff_hear_of_them(server: Server, connect: Connect) -> None:
    await _waiting_room(server)
    fac = await connect(await server.staff("fran"))
    await fac.join("circle")
    admin = await connect(await server.login())  # an admin anywhere hears of waiting members too
    member = await connect((await server.session("Calm River"))[0])
    peer = await _peer(server, connect, "Quiet Heron")
    await member.call("room:join", {"room": "circle"})
    ack = await peer.call("room:join", {"room": "circle"})
    assert ack["ok"] is False and ack["error"]["code"] == "waiting"
    seen = await fac.wait_for("member:waiting", lambda p: p["member"]["pseudonym"] == "Quiet Heron")
    assert seen["room"] == "circle" and seen["member"]["role"] == "peer"
    await admin.wait_for("member:waiting", lambda p: p["member"]["id"] == seen["member"]["id"])
    # Waiting members are not online, get no room events and cannot send.
    status, body = await server.get("/api/rooms", (await server.session())[0])
    assert status == 200 and [r["members"] for r in body["rooms"]] == [1]
    sent = await fac.send("circle", "welcome, everyone")
    assert sent["ok"]
    send = await peer.send("circle", "let me in")
    assert send["ok"] is False and send["error"]["code"] == "not_member"
    assert peer.events["message:new"] == [] and peer.events["member:joined"] == []


async def test_admit_lets_the_peer_in_and_is_remembered(server: Server, connect: Connect) -> None:
    await _waiting_room(server)
    fac = await connect(await server.staff("fran"))
    await fac.join("circle")
    peer = await _peer(server, connect, "Quiet Heron")
    await peer.call("room:join", {"room": "circle"})
    waiting = await fac.wait_for("member:waiting")
    ack = await fac.call("mod:admit", {"room": "circle", "member": waiting["member"]["id"]})
    assert ack == {"ok": True}
    assert (await peer.wait_for("room:admitted")) == {"room": "circle"}
    joined = await peer.join("circle")
    assert joined["you"]["id"] == waiting["member"]["id"]
    assert (await peer.call("room:leave", {"room": "circle"}))["ok"]
    assert (await peer.call("room:join", {"room": "circle"}))["ok"]  # remembered
    status, body = await server.get("/api/admin/audit?room=circle", await server.login())
    assert [e["action"] for e in body["entries"]][:1] == ["admit"]


async def test_removal_forgets_admission(server: Server, connect: Connect) -> None:
    await _waiting_room(server)
    fac = await connect(await server.staff("fran"))
    await fac.join("circle")
    peer = await _peer(server, connect, "Quiet Heron")
    admin = await connect(await server.login())
    await peer.call("room:join", {"room": "circle"})
    waiting = await admin.wait_for("member:waiting")
    member_id = waiting["member"]["id"]
    assert (await fac.call("mod:admit", {"room": "circle", "member": member_id}))["ok"]
    await peer.join("circle")
    assert (await fac.call("mod:remove", {"room": "circle", "member": member_id}))["ok"]
    again = await peer.call("room:join", {"room": "circle"})
    assert again["error"]["code"] == "waiting"


async def test_deny_tells_the_peer_and_they_may_ask_again(server: Server, connect: Connect) -> None:
    await _waiting_room(server)
    fac = await connect(await server.staff("fran"))
    await fac.join("circle")
    peer = await _peer(server, connect, "Quiet Heron")
    await peer.call("room:join", {"room": "circle"})
    waiting = await fac.wait_for("member:waiting")
    member_id = waiting["member"]["id"]
    assert (await fac.call("mod:deny", {"room": "circle", "member": member_id})) == {"ok": True}
    removed = await peer.wait_for("room:removed")
    assert removed == {"room": "circle", "reason": "denied", "banned_until": None}
    again = await peer.call("room:join", {"room": "circle"})
    assert again["error"]["code"] == "waiting"
    await fac.wait_for("member:waiting", lambda p: len(fac.events["member:waiting"]) >= 2)
    assert (await fac.call("mod:deny", {"room": "circle", "member": member_id, "reason": "full tonight"}))["ok"]
    await peer.wait_for("room:removed", lambda p: p["reason"] == "full tonight")
    status, body = await server.get("/api/admin/audit?room=circle", await server.login())
    assert [e["action"] for e in body["entries"]][:2] == ["deny", "deny"]


async def test_peers_cannot_admit_and_unknown_members_are_not_found(server: Server, connect: Connect) -> None:
    await _waiting_room(server)
    peer = await _peer(server, connect, "Quiet Heron")
    ack = await peer.call("mod:admit", {"room": "circle", "member": "m_nobody"})
    assert ack["error"]["code"] == "forbidden"
    fac = await connect(await server.staff("fran"))
    ack = await fac.call("mod:admit", {"room": "circle", "member": "m_nobody"})
    assert ack["error"]["code"] == "not_found"
    ack = await fac.call("mod:deny", {"room": "circle"})
    assert ack["error"]["code"] == "invalid"


async def test_open_room_and_staff_never_wait(server: Server, connect: Connect) -> None:
    await server.room("open-room")
    await _waiting_room(server)
    peer = await _peer(server, connect, "Quiet Heron")
    assert (await peer.call("room:join", {"room": "open-room"}))["ok"]
    fac = await connect(await server.staff("fran"))
    assert (await fac.call("room:join", {"room": "circle"}))["ok"]


async def test_members_inside_stay_when_admission_changes(server: Server, connect: Connect) -> None:
    await server.room("circle")
    peer = await _peer(server, connect, "Quiet Heron")
    await peer.join("circle")
    admin = await server.login()
    status, _ = await server.patch("/api/rooms/circle", {"admission": "approval"}, admin)
    assert status == 200
    assert (await peer.send("circle", "still here"))["ok"]
    await peer.call("room:leave", {"room": "circle"})
    assert (await peer.call("room:join", {"room": "circle"}))["error"]["code"] == "waiting"


# rule 25 ----------------------------------------------------------------------


async def test_new_identity_reads_but_cannot_send(server: Server, connect: Connect) -> None:
    await server.room("circle", min_identity_age_s=3600)
    token, _ = await server.session("Quiet Heron")
    peer = await connect(token)
    joined = await peer.join("circle")
    assert joined["ok"]
    ack = await peer.send("circle", "hello")
    assert ack["ok"] is False
    error = ack["error"]
    assert error["code"] == "muted" and error["reason"] == "new_identity"
    assert isinstance(error["until"], int) and error["until"] > 0
    fac = await connect(await server.staff("fran"))
    await fac.join("circle")
    assert (await fac.send("circle", "staff are exempt"))["ok"]


async def test_old_enough_identity_sends(server: Server, connect: Connect) -> None:
    await server.room("circle", min_identity_age_s=0)
    peer = await _peer(server, connect, "Quiet Heron")
    await peer.join("circle")
    assert (await peer.send("circle", "hello"))["ok"]


# rule 28: warnings ------------------------------------------------------------


async def test_warning_reaches_only_its_target(server: Server, connect: Connect) -> None:
    await server.room("circle")
    fac = await connect(await server.staff("fran"))
    await fac.join("circle")
    target = await _peer(server, connect, "Quiet Heron")
    second_tab = await connect((await server.session("Quiet Heron"))[0])
    other = await _peer(server, connect, "Calm River")
    target_id = (await target.join("circle"))["you"]["id"]
    await other.join("circle")
    ack = await fac.call("mod:warn", {"room": "circle", "member": target_id, "text": "Please be kind."})
    assert ack == {"ok": True}
    warned = await target.wait_for("member:warned")
    assert warned["room"] == "circle" and warned["text"] == "Please be kind."
    assert warned["by"]["pseudonym"] == "fran" and warned["by"]["role"] == "facilitator"
    sent = await fac.send("circle", "a marker after the warning")  # everyone gets this, so the warning would be earlier
    assert sent["ok"]
    await other.wait_for("message:new", lambda m: m["id"] == sent["message"]["id"])
    assert other.events["member:warned"] == [] and fac.events["member:warned"] == []
    assert second_tab.events["member:warned"] == []  # another identity with the same name
    status, body = await server.get("/api/admin/audit?room=circle", await server.login())
    entry = body["entries"][0]
    assert entry["action"] == "warn" and entry["target"] == target_id
    assert "Please be kind" not in str(body) and entry["reason"] is None  # the text is not kept


@pytest.mark.parametrize("text", ["", "   ", "x" * 501, 5, None])
async def test_warning_text_is_checked(server: Server, connect: Connect, text: object) -> None:
    await server.room("circle")
    fac = await connect(await server.staff("fran"))
    target = await _peer(server, connect, "Quiet Heron")
    target_id = (await target.join("circle"))["you"]["id"]
    ack = await fac.call("mod:warn", {"room": "circle", "member": target_id, "text": text})
    assert ack["ok"] is False and ack["error"]["code"] == "invalid"


async def test_warning_every_socket_of_the_member(server: Server, connect: Connect) -> None:
    await server.room("circle")
    fac = await connect(await server.staff("fran"))
    token, _ = await server.session("Quiet Heron")
    one, two = await connect(token), await connect(token)
    target_id = (await one.join("circle"))["you"]["id"]
    await two.join("circle")
    assert (await fac.call("mod:warn", {"room": "circle", "member": target_id, "text": "Careful."}))["ok"]
    await asyncio.gather(one.wait_for("member:warned"), two.wait_for("member:warned"))


async def test_removal_reason_reaches_the_removed_peer(server: Server, connect: Connect) -> None:
    await server.room("circle")
    fac = await connect(await server.staff("fran"))
    peer = await _peer(server, connect, "Quiet Heron")
    member_id = (await peer.join("circle"))["you"]["id"]
    ack = await fac.call("mod:remove", {"room": "circle", "member": member_id, "reason": "take a break", "ban_s": 60})
    assert ack["ok"]
    removed = await peer.wait_for("room:removed")
    assert removed["reason"] == "take a break" and removed["banned_until"] == ack["banned_until"]
