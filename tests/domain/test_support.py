"""Guidelines, crisis signals, help requests and replies on the real services with a manual clock."""

from __future__ import annotations

import pytest

from moderation import support
from moderation.crisis import load_catalog
from moderation.guidelines import GuidelinesRequired, check_guidelines
from moderation.safety_sqlite import SqliteSafetyStore
from rooms.clock import ManualClock
from rooms.errors import Forbidden, Invalid, NotFound, RateLimited
from rooms.models import Role, RoomSettings
from server.services import Services
from tests.domain.conftest import FAC, OTHER, PEER

CATALOG = load_catalog(None)


async def _room(svc: Services) -> None:
    await svc.rooms.create_room(RoomSettings(name="Circle", id="circle"))


async def test_guidelines_are_accepted_once_per_version(svc: Services) -> None:
    store = SqliteSafetyStore(svc.mod_store.db)  # type: ignore[attr-defined]
    await store.open()
    ask = {"guidelines": "Be kind.", "version": 1}
    with pytest.raises(GuidelinesRequired) as info:
        await check_guidelines(store, "circle", "m1", Role.PEER, accept=None, **ask)  # type: ignore[arg-type]
    assert info.value.code == "guidelines" and info.value.details == {"guidelines": "Be kind.", "version": 1}
    with pytest.raises(GuidelinesRequired):
        await check_guidelines(store, "circle", "m1", Role.PEER, accept=0, **ask)  # type: ignore[arg-type]
    await check_guidelines(store, "circle", "m1", Role.PEER, accept=1, **ask)  # type: ignore[arg-type]
    await check_guidelines(store, "circle", "m1", Role.PEER, accept=None, **ask)  # type: ignore[arg-type]
    with pytest.raises(GuidelinesRequired):
        await check_guidelines(store, "circle", "m1", Role.PEER, accept=None, guidelines="Be kinder.", version=2)
    await check_guidelines(store, "circle", "m2", Role.FACILITATOR, accept=None, guidelines="x", version=5)
    await check_guidelines(store, "circle", "m3", Role.PEER, accept=None, guidelines="", version=0)


async def test_a_crisis_message_alerts_and_flags_only_when_no_staff_is_in(svc: Services, clock: ManualClock) -> None:
    await _room(svc)
    room = await svc.rooms.get_room("circle")
    msg = await svc.rooms.send(PEER, room, "I want to end my life", None)
    assert support.is_crisis_signal(CATALOG, msg)
    with_staff = await support.crisis_signal(svc.mod, CATALOG, msg, staff_in_room=1)
    assert with_staff.flag is None
    assert with_staff.alert.kind == "crisis" and with_staff.alert.message_id == msg.id
    assert with_staff.alert.member == msg.author and with_staff.alert.ts == clock.now_ms()
    assert with_staff.resources == CATALOG.resources_wire()
    alone = await support.crisis_signal(svc.mod, CATALOG, msg, staff_in_room=0)
    assert alone.flag is not None
    assert alone.flag.reason == "crisis signal" and alone.flag.reporter is None
    assert alone.flag.message is not None and alone.flag.message.text == "I want to end my life"
    ordinary = await svc.rooms.send(OTHER, room, "this heat is killing me", None)
    assert not support.is_crisis_signal(CATALOG, ordinary)
    staff_msg = await svc.rooms.send(FAC, room, "If you feel suicidal, please call a helpline", None)
    assert not support.is_crisis_signal(CATALOG, staff_msg)


async def test_a_help_request_flags_without_message_when_no_staff_is_in(svc: Services) -> None:
    await _room(svc)
    me = svc.rooms.member_for(PEER, "circle")
    told = await support.support_request(svc.mod, CATALOG, me, "circle", "rough night", staff_in_room=2)
    assert told.flag is None and told.alert.kind == "request" and told.alert.text == "rough night"
    alone = await support.support_request(svc.mod, CATALOG, me, "circle", "", staff_in_room=0)
    assert alone.alert.text is None
    assert alone.flag is not None and alone.flag.message is None and alone.flag.reporter == me.id
    assert alone.flag.reason == "help request"
    with pytest.raises(Invalid):
        await support.support_request(svc.mod, CATALOG, me, "circle", "x" * 501, staff_in_room=0)


async def test_replies_are_staff_only_and_to_a_known_member(svc: Services) -> None:
    await _room(svc)
    await svc.rooms.join(PEER, "circle", "sid-1")
    me = svc.rooms.member_for(PEER, "circle")
    reply = await support.support_reply(svc.mod, FAC, "circle", me.id, "I'm here. Want to talk?")
    assert reply.member_id == me.id and reply.by.role is Role.FACILITATOR and reply.text == "I'm here. Want to talk?"
    with pytest.raises(Forbidden):
        await support.support_reply(svc.mod, OTHER, "circle", me.id, "hi")
    with pytest.raises(NotFound):
        await support.support_reply(svc.mod, FAC, "circle", "m_nobody", "hi")
    with pytest.raises(Invalid):
        await support.support_reply(svc.mod, FAC, "circle", me.id, "")


async def test_help_requests_are_rate_limited_per_member_and_room(svc: Services, clock: ManualClock) -> None:
    await _room(svc)
    me = svc.rooms.member_for(PEER, "circle")
    for _ in range(5):
        await support.support_request(svc.mod, CATALOG, me, "circle", None, staff_in_room=1)
    with pytest.raises(RateLimited) as info:
        await support.support_request(svc.mod, CATALOG, me, "circle", None, staff_in_room=1)
    assert 0 < info.value.retry_after_ms <= 2000
    other = svc.rooms.member_for(OTHER, "circle")
    await support.support_request(svc.mod, CATALOG, other, "circle", None, staff_in_room=1)
    clock.advance(2000)
    await support.support_request(svc.mod, CATALOG, me, "circle", None, staff_in_room=1)
