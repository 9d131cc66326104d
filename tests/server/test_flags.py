"""Flags from members, flag:new to staff, and admin review over HTTP."""

from __future__ import annotations

from tests.conftest import Client, Connect, Server


async def _setup(server: Server, connect: Connect) -> tuple[Client, Client, Client, dict, dict]:
    await server.room("circle")
    admin = await connect(await server.login())  # connected admin, not in the room
    author = await connect((await server.session("Quiet Heron"))[0])
    author_you = (await author.join("circle"))["you"]
    reporter = await connect((await server.session("Calm Lake"))[0])
    await reporter.join("circle")
    await author.send("circle", "context one")
    await author.send("circle", "context two")
    msg = (await author.send("circle", "FLAGGED-TEXT"))["message"]
    return admin, author, reporter, author_you, msg


async def test_flag_reaches_admins_and_room_staff_with_snapshot(server: Server, connect: Connect) -> None:
    admin, author, reporter, author_you, msg = await _setup(server, connect)
    fac_in_room = await connect(await server.staff("fran"))
    await fac_in_room.join("circle")
    fac_elsewhere = await connect(await server.staff("gale"))
    ack = await reporter.call("message:flag", {"room": "circle", "message_id": msg["id"], "reason": "Harassment"})
    assert ack["ok"] and ack["flag_id"]
    for staff in (admin, fac_in_room):
        flag = await staff.wait_for("flag:new")
        assert flag["id"] == ack["flag_id"]
        assert flag["message"]["text"] == "FLAGGED-TEXT"
        assert [m["text"] for m in flag["context"]] == ["context one", "context two"]
        assert flag["status"] == "open" and flag["resolution"] is None and flag["reason"] == "Harassment"
    assert "flag:new" not in fac_elsewhere.events
    assert "flag:new" not in author.events and "flag:new" not in reporter.events
    again = await reporter.call("message:flag", {"room": "circle", "message_id": msg["id"], "reason": "Again"})
    assert again == {"ok": True, "flag_id": ack["flag_id"]}
    own = await author.call("message:flag", {"room": "circle", "message_id": msg["id"], "reason": "Mine"})
    assert own["ok"] and own["flag_id"] != ack["flag_id"]


async def test_admins_see_the_reporter_by_the_name_the_room_saw(server: Server, connect: Connect) -> None:
    admin, author, reporter, author_you, msg = await _setup(server, connect)
    namesake = await connect((await server.session("Calm Lake"))[0])  # rule 27: shown numbered
    shown = (await namesake.join("circle"))["you"]
    assert shown["pseudonym"] != "Calm Lake"
    first = await reporter.call("message:flag", {"room": "circle", "message_id": msg["id"], "reason": "Harassment"})
    second = await namesake.call("message:flag", {"room": "circle", "message_id": msg["id"], "reason": "Me too"})
    new = await admin.wait_for("flag:new", lambda f: f["id"] == second["flag_id"])
    assert new["reporter"] == shown["id"] and new["reporter_pseudonym"] == shown["pseudonym"]
    status, body = await server.get("/api/admin/flags?status=open", await server.login())
    assert status == 200
    names = {f["id"]: (f["reporter"], f["reporter_pseudonym"]) for f in body["flags"]}
    assert names[first["flag_id"]][1] == "Calm Lake"
    assert names[second["flag_id"]] == (shown["id"], shown["pseudonym"])


async def test_flag_errors(server: Server, connect: Connect) -> None:
    admin, author, reporter, author_you, msg = await _setup(server, connect)
    outsider = await connect((await server.session())[0])
    assert (await outsider.call("message:flag", {"room": "circle", "message_id": msg["id"], "reason": "x"}))["error"][
        "code"
    ] == "not_member"
    assert (await reporter.call("message:flag", {"room": "circle", "message_id": "nope", "reason": "x"}))["error"][
        "code"
    ] == "not_found"
    for reason in (None, "", "   ", "x" * 501, 5):
        ack = await reporter.call("message:flag", {"room": "circle", "message_id": msg["id"], "reason": reason})
        assert ack["error"]["code"] == "invalid", reason


async def test_flagging_is_rate_limited(server: Server, connect: Connect) -> None:
    await server.room("circle")
    staff = await connect(await server.staff("fran"))
    await staff.join("circle")
    ids = [(await staff.send("circle", f"m{i}"))["message"]["id"] for i in range(8)]
    reporter = await connect((await server.session())[0])
    await reporter.join("circle")
    codes = [(await reporter.call("message:flag", {"room": "circle", "message_id": i, "reason": "spam"})) for i in ids]
    assert all(a["ok"] for a in codes[:5])
    assert codes[5]["error"]["code"] == "rate_limited" and codes[5]["error"]["retry_after_ms"] > 0


async def test_snapshot_survives_mod_delete_and_review_dismiss(server: Server, connect: Connect) -> None:
    admin, author, reporter, author_you, msg = await _setup(server, connect)
    flag_id = (await reporter.call("message:flag", {"room": "circle", "message_id": msg["id"], "reason": "r"}))[
        "flag_id"
    ]
    fac = await connect(await server.staff("fran"))
    assert (await fac.call("mod:delete", {"room": "circle", "message_id": msg["id"]}))["ok"]
    token = await server.login()
    status, body = await server.get("/api/admin/flags?status=open", token)
    assert status == 200
    [flag] = body["flags"]
    assert flag["id"] == flag_id and flag["message"]["text"] == "FLAGGED-TEXT"
    assert flag["reporter"] != author_you["id"] and flag["message"]["author"]["id"] == author_you["id"]
    status, resolved = await server.post(
        f"/api/admin/flags/{flag_id}/resolve", {"action": "dismiss", "note": "ok"}, token
    )
    assert status == 200
    assert resolved["status"] == "dismissed"
    assert resolved["resolution"]["action"] == "dismiss" and resolved["resolution"]["by"] == "admin"
    assert resolved["resolution"]["note"] == "ok"
    status, body = await server.post(f"/api/admin/flags/{flag_id}/resolve", {"action": "dismiss"}, token)
    assert status == 409 and body["error"]["code"] == "conflict"
    status, body = await server.get("/api/admin/flags?status=open", token)
    assert body["flags"] == []
    status, body = await server.get("/api/admin/flags?status=dismissed", token)
    assert [f["id"] for f in body["flags"]] == [flag_id]


async def test_review_delete_message(server: Server, connect: Connect) -> None:
    admin, author, reporter, author_you, msg = await _setup(server, connect)
    flag_id = (await reporter.call("message:flag", {"room": "circle", "message_id": msg["id"], "reason": "r"}))[
        "flag_id"
    ]
    status, resolved = await server.post(
        f"/api/admin/flags/{flag_id}/resolve", {"action": "delete_message"}, await server.login()
    )
    assert status == 200 and resolved["status"] == "actioned"
    assert (await reporter.wait_for("message:deleted")) == {"room": "circle", "message_id": msg["id"]}


async def test_review_ban_removes_and_bans_author(server: Server, connect: Connect) -> None:
    admin, author, reporter, author_you, msg = await _setup(server, connect)
    flag_id = (await reporter.call("message:flag", {"room": "circle", "message_id": msg["id"], "reason": "r"}))[
        "flag_id"
    ]
    status, resolved = await server.post(f"/api/admin/flags/{flag_id}/resolve", {"action": "ban"}, await server.login())
    assert status == 200 and resolved["resolution"]["action"] == "ban"
    removed = await author.wait_for("room:removed")
    assert removed["room"] == "circle" and removed["banned_until"] > resolved["resolution"]["at"] + 6 * 86400 * 1000
    left = await reporter.wait_for("member:left")
    assert left["reason"] == "removed" and left["member_id"] == author_you["id"]
    join = await author.call("room:join", {"room": "circle"})
    assert join["error"]["code"] == "banned"


async def test_review_permissions_and_errors(server: Server, connect: Connect) -> None:
    admin, author, reporter, author_you, msg = await _setup(server, connect)
    flag_id = (await reporter.call("message:flag", {"room": "circle", "message_id": msg["id"], "reason": "r"}))[
        "flag_id"
    ]
    fac = await server.staff("fran")
    peer = (await server.session())[0]
    assert (await server.get("/api/admin/flags"))[0] == 401
    assert (await server.get("/api/admin/flags", peer))[0] == 403
    assert (await server.get("/api/admin/flags", fac))[0] == 403
    assert (await server.get("/api/admin/flags?status=weird", await server.login()))[0] == 400
    token = await server.login()
    assert (await server.post("/api/admin/flags/f_nope/resolve", {"action": "dismiss"}, token))[0] == 404
    assert (await server.post(f"/api/admin/flags/{flag_id}/resolve", {"action": "explode"}, token))[0] == 400
    assert (await server.post(f"/api/admin/flags/{flag_id}/resolve", {"action": "ban", "ban_s": -1}, token))[0] == 400


async def test_staff_management(server: Server, connect: Connect) -> None:
    admin = await server.login()
    status, body = await server.post(
        "/api/admin/staff", {"name": "fran", "role": "facilitator", "password": "long-enough"}, admin
    )
    assert status == 201 and body == {"name": "fran", "role": "facilitator"}
    status, body = await server.post(
        "/api/admin/staff", {"name": "fran", "role": "admin", "password": "long-enough"}, admin
    )
    assert status == 409
    for bad in (
        {"name": "Fran", "role": "facilitator", "password": "long-enough"},
        {"name": "fr", "role": "boss", "password": "long-enough"},
        {"name": "frank", "role": "facilitator", "password": "short"},
    ):
        assert (await server.post("/api/admin/staff", bad, admin))[0] == 400, bad
    status, body = await server.get("/api/admin/staff", admin)
    assert {"name": "fran", "role": "facilitator"} in body["staff"] and {"name": "admin", "role": "admin"} in body[
        "staff"
    ]
    fran = await server.login("fran", "long-enough")
    assert (await server.get("/api/admin/staff", fran))[0] == 403
    sock = await connect(fran)
    status, _ = await server.delete("/api/admin/staff/fran", admin)
    assert status == 204
    assert (await server.get("/api/rooms", fran))[0] == 401
    for _ in range(50):
        if not sock.sio.connected:
            break
        import asyncio

        await asyncio.sleep(0.05)
    assert not sock.sio.connected
    assert (await server.delete("/api/admin/staff/fran", admin))[0] == 404
    status, body = await server.get("/api/admin/audit", admin)
    assert [e["action"] for e in body["entries"][:2]] == ["staff.remove", "staff.add"]
