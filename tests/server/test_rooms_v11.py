"""Version 1.1 room fields over HTTP and Socket.IO, on both stores: storage, validation, `attended`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Connect, Server
from tests.server.conftest import V11_DEFAULTS


async def test_new_fields_default_store_and_show_everywhere(server: Server, connect: Connect) -> None:
    room = await server.room("circle")
    assert {k: room[k] for k in V11_DEFAULTS} == V11_DEFAULTS
    admin = await server.login()
    status, body = await server.post(
        "/api/rooms",
        {
            "name": "Held",
            "id": "held",
            "guidelines": "Be kind.",
            "min_identity_age_s": 604800,
            "admission": "approval",
            "unattended": "read_only",
        },
        admin,
    )
    assert status == 201, body
    assert body["guidelines"] == "Be kind." and body["guidelines_version"] == 1  # created with guidelines: 1
    assert body["min_identity_age_s"] == 604800 and body["admission"] == "approval"
    assert body["unattended"] == "read_only" and body["attended"] is False
    token, _ = await server.session()
    status, listing = await server.get("/api/rooms", token)
    held = next(r for r in listing["rooms"] if r["id"] == "held")
    assert held == body  # read back from the store


async def test_guidelines_version_grows_only_when_guidelines_change(server: Server, connect: Connect) -> None:
    await server.room("circle")
    admin = await server.login()
    versions = []
    for patch in (
        {"guidelines": "One."},
        {"guidelines": "One."},  # unchanged: same version
        {"topic": "other"},
        {"guidelines": "Two."},
        {"guidelines": ""},  # cleared is a change too
    ):
        status, body = await server.patch("/api/rooms/circle", patch, admin)
        assert status == 200, body
        versions.append(body["guidelines_version"])
    assert versions == [1, 1, 1, 2, 3]
    status, body = await server.patch("/api/rooms/circle", {"guidelines": "x" * 4000}, admin)
    assert status == 200 and body["guidelines_version"] == 4


@pytest.mark.parametrize(
    "bad",
    [
        {"guidelines_version": 3},
        {"attended": True},
        {"guidelines": "x" * 4001},
        {"guidelines": 5},
        {"min_identity_age_s": -1},
        {"min_identity_age_s": 604801},
        {"min_identity_age_s": True},
        {"admission": "closed"},
        {"unattended": "slow-ish"},
        {"unattended": None},
    ],
)
async def test_bad_v11_fields_are_invalid_on_post_and_patch(server: Server, bad: dict[str, Any]) -> None:
    await server.room("circle")
    admin = await server.login()
    field = next(iter(bad))
    status, body = await server.post("/api/rooms", {"name": "x", **bad}, admin)
    assert status == 400 and body["error"]["code"] == "invalid" and body["error"]["field"] == field, body
    status, body = await server.patch("/api/rooms/circle", bad, admin)
    assert status == 400 and body["error"]["code"] == "invalid" and body["error"]["field"] == field, body


async def test_only_staff_set_v11_fields(server: Server) -> None:
    await server.room("circle")
    token, _ = await server.session()
    status, body = await server.patch("/api/rooms/circle", {"admission": "approval"}, token)
    assert status == 403 and body["error"]["code"] == "forbidden"
    fac = await server.staff("fran")
    status, body = await server.patch("/api/rooms/circle", {"unattended": "slow"}, fac)
    assert status == 200 and body["unattended"] == "slow"


async def test_attended_follows_staff_presence(server: Server, connect: Connect) -> None:
    await server.room("circle")
    token, _ = await server.session()
    peer = await connect(token)
    assert (await peer.join("circle"))["room"]["attended"] is False
    fac = await connect(await server.staff("fran"))
    assert (await fac.join("circle"))["room"]["attended"] is True
    status, listing = await server.get("/api/rooms", token)
    assert listing["rooms"][0]["attended"] is True and listing["rooms"][0]["members"] == 2
    assert (await fac.call("room:leave", {"room": "circle"}))["ok"]
    status, listing = await server.get("/api/rooms", token)
    assert listing["rooms"][0]["attended"] is False


@pytest.mark.parametrize("room_id", ["ab\n", "ab\r", "\nab", "Ab", "a", "-ab", "a" * 41, "ab cd"])
async def test_one_room_id_rule(server: Server, connect: Connect, room_id: str) -> None:
    admin = await server.login()
    status, body = await server.post("/api/rooms", {"name": "x", "id": room_id}, admin)
    assert status == 400 and body["error"]["field"] == "id", body
    peer = await connect((await server.session())[0])
    ack = await peer.call("room:join", {"room": room_id})
    assert ack["ok"] is False and ack["error"]["code"] == "invalid" and ack["error"]["field"] == "room"
