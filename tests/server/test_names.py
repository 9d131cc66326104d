"""Names in a room over the wire (precise rule 27) and peer pseudonyms that name a staff account."""

from __future__ import annotations

import pytest

from tests.conftest import Connect, Server


async def test_namesakes_show_numbered_names(server: Server, connect: Connect) -> None:
    await server.room("circle")
    first_token, _ = await server.session("Calm River")
    second_token, _ = await server.session("calm  river")
    first = await connect(first_token)
    second = await connect(second_token)
    await first.join("circle")
    ack = await second.join("circle")
    assert ack["you"]["pseudonym"] == "calm  river 2"
    joined = await first.wait_for("member:joined", lambda d: d["member"]["id"] == ack["you"]["id"])
    assert joined["member"]["pseudonym"] == "calm  river 2"
    sent = await second.send("circle", "hello")
    assert sent["message"]["author"]["pseudonym"] == "calm  river 2"
    seen = await first.wait_for("message:new", lambda m: m["id"] == sent["message"]["id"])
    assert seen["author"]["pseudonym"] == "calm  river 2"
    assert sorted(m["pseudonym"] for m in ack["members"]) == ["Calm River", "calm  river 2"]


async def test_number_is_per_room_and_only_while_online(server: Server, connect: Connect) -> None:
    await server.room("circle")
    await server.room("other")
    a_token, _ = await server.session("Calm River")
    b_token, _ = await server.session("Calm River")
    a, b = await connect(a_token), await connect(b_token)
    await a.join("circle")
    assert (await b.join("circle"))["you"]["pseudonym"] == "Calm River 2"
    assert (await b.join("other"))["you"]["pseudonym"] == "Calm River"
    assert (await a.call("room:leave", {"room": "circle"}))["ok"]
    await b.call("room:leave", {"room": "circle"})
    assert (await b.join("circle"))["you"]["pseudonym"] == "Calm River"


@pytest.mark.parametrize("pseudonym", ["fran", "FRAN", "Fr4n", "fr\u0430n", "\uff26ran"])
async def test_pseudonym_naming_a_staff_account_is_invalid(server: Server, pseudonym: str) -> None:
    await server.staff("fran")
    status, body = await server.post("/api/session", {"pseudonym": pseudonym})
    assert status == 400, body
    assert body["error"]["code"] == "invalid"


async def test_pseudonym_containing_a_staff_name_as_a_word_passes(server: Server) -> None:
    await server.staff("fran")
    status, body = await server.post("/api/session", {"pseudonym": "Fran Kindly"})
    assert status == 201, body


LOOK_ALIKES = ["\u13aa\u13a0\u13b7\u13c6N", "\u1d00\u1d05\u1d0d\u026a\u0274", "\u0410\u0434\u043c\u0438\u043d"]


@pytest.mark.parametrize("pseudonym", LOOK_ALIKES)
async def test_staff_look_alikes_refused_at_session(server: Server, pseudonym: str) -> None:
    status, body = await server.post("/api/session", {"pseudonym": pseudonym})
    assert status == 400 and body["error"]["code"] == "invalid"
