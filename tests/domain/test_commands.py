"""Every moderation command on the real services (SQLite, ManualClock): what it does, who may, what it records."""

from __future__ import annotations

import pytest

from moderation import audit, review, room_admin, staff
from moderation import delete as delete_cmd
from moderation import flag as flag_cmd
from moderation import mute as mute_cmd
from moderation import remove as remove_cmd
from moderation.models import AuditAction, FlagStatus, ResolutionAction
from moderation.remove import Kick
from rooms.clock import ManualClock
from rooms.errors import Banned, Conflict, Forbidden, Invalid, Muted, NotFound, RateLimited
from rooms.models import Admission, Identity, Role, RoomSettings, Unattended
from server.services import Services
from tests.domain.conftest import ADMIN, FAC, OTHER, PEER


async def _circle(svc: Services) -> str:
    """A room with PEER and OTHER in it; returns PEER's member id."""
    await room_admin.create_room(svc.mod, FAC, RoomSettings(name="Circle", id="circle"))
    await svc.rooms.join(PEER, "circle", "sid-peer")
    await svc.rooms.join(OTHER, "circle", "sid-other")
    return svc.rooms.member_for(PEER, "circle").id


async def _actions(svc: Services) -> list[tuple[str, str | None, str | None]]:
    return [(e.action, e.target, e.reason) for e in await audit.read(svc.mod, ADMIN, None, 100)]


async def test_mute_and_unmute(svc: Services, clock: ManualClock) -> None:
    peer = await _circle(svc)
    room = await svc.rooms.get_room("circle")
    result = await mute_cmd.mute(svc.mod, FAC, "circle", peer, 30, "  cool\u202e down ")
    assert (result.until, result.reason) == (clock.now_ms() + 30_000, "cool down")  # reason normalised
    with pytest.raises(Muted) as info:
        await svc.rooms.send(PEER, room, "hi", None)
    assert info.value.until == result.until
    assert (await svc.rooms.join(PEER, "circle", "sid-peer")).mute is not None
    await mute_cmd.unmute(svc.mod, FAC, "circle", peer)
    assert (await svc.rooms.send(PEER, room, "hi", None)).text == "hi"
    with pytest.raises(NotFound):
        await mute_cmd.unmute(svc.mod, FAC, "circle", peer)  # not muted any more
    with pytest.raises(NotFound):
        await mute_cmd.mute(svc.mod, FAC, "circle", "nobody", None, None)
    with pytest.raises(NotFound):
        await mute_cmd.mute(svc.mod, FAC, "no-room", peer, None, None)
    with pytest.raises(Forbidden):
        await mute_cmd.unmute(svc.mod, OTHER, "circle", peer)
    assert await _actions(svc) == [
        ("unmute", peer, None),
        ("mute", peer, "cool down"),
        ("room.create", None, None),
    ]


async def test_remove_without_and_with_a_ban(svc: Services, clock: ManualClock) -> None:
    peer = await _circle(svc)
    plain = await remove_cmd.remove(svc.mod, FAC, "circle", peer, None, None)
    assert plain.banned_until is None and plain.kick == Kick("circle", peer, "removed", None)
    await svc.rooms.join(PEER, "circle", "sid-2")  # no ban: may come straight back
    banned = await remove_cmd.remove(svc.mod, FAC, "circle", peer, 60, "spam")
    assert banned.kick == Kick("circle", peer, "spam", clock.now_ms() + 60_000)
    with pytest.raises(Banned) as info:
        await svc.rooms.join(PEER, "circle", "sid-3")
    assert info.value.until == banned.banned_until
    await svc.rooms.join(FAC, "circle", "sid-fac")
    with pytest.raises(Forbidden):
        await remove_cmd.remove(svc.mod, FAC, "circle", svc.rooms.member_for(FAC, "circle").id, None, None)
    assert [a for a, _, _ in await _actions(svc)][:2] == ["remove", "remove"]


async def test_delete_message(svc: Services) -> None:
    await _circle(svc)
    room = await svc.rooms.get_room("circle")
    msg = await svc.rooms.send(PEER, room, "regrettable", None)
    with pytest.raises(Forbidden):
        await delete_cmd.delete(svc.mod, OTHER, "circle", msg.id, None)
    result = await delete_cmd.delete(svc.mod, FAC, "circle", msg.id, "off topic")
    assert (result.room, result.message_id) == ("circle", msg.id)
    assert [m.id for m in await svc.rooms.history("circle")] == []
    with pytest.raises(NotFound):
        await delete_cmd.delete(svc.mod, FAC, "circle", msg.id, None)
    own = await svc.rooms.send(ADMIN, room, "mine", None)
    await delete_cmd.delete(svc.mod, ADMIN, "circle", own.id, None)  # staff may delete their own
    staff_msg = await svc.rooms.send(ADMIN, room, "an admin's", None)
    with pytest.raises(Forbidden):
        await delete_cmd.delete(svc.mod, FAC, "circle", staff_msg.id, None)
    assert (await _actions(svc))[:2] == [("delete", svc.rooms.member_for(ADMIN, "circle").id, None)] + [
        ("delete", svc.rooms.member_for(PEER, "circle").id, "off topic")
    ]


async def test_flag_dedupes_rate_limits_and_refunds(svc: Services, clock: ManualClock) -> None:
    await _circle(svc)
    room = await svc.rooms.get_room("circle")
    msgs = [await svc.rooms.send(FAC, room, f"m{i}", None) for i in range(7)]
    first = await flag_cmd.flag(svc.mod, PEER, "circle", msgs[0].id, "worrying")
    assert first.created and first.flag.status is FlagStatus.OPEN
    again = await flag_cmd.flag(svc.mod, PEER, "circle", msgs[0].id, "still worrying")
    assert not again.created and again.flag.id == first.flag.id  # the same reporter, the same message
    with pytest.raises(NotFound):
        await flag_cmd.flag(svc.mod, PEER, "circle", "no-such-message", "x")
    with pytest.raises(Invalid):
        await flag_cmd.flag(svc.mod, PEER, "circle", msgs[1].id, "   ")
    for m in msgs[1:5]:  # the repeat and the refusals gave their tokens back: four more fit
        assert (await flag_cmd.flag(svc.mod, PEER, "circle", m.id, "r")).created
    with pytest.raises(RateLimited):
        await flag_cmd.flag(svc.mod, PEER, "circle", msgs[5].id, "r")
    assert (await flag_cmd.flag(svc.mod, OTHER, "circle", msgs[5].id, "r")).created  # per reporter
    clock.advance(2000)
    assert (await flag_cmd.flag(svc.mod, PEER, "circle", msgs[5].id, "r")).created


async def test_review_resolves_each_action_once(svc: Services, clock: ManualClock) -> None:
    peer = await _circle(svc)
    room = await svc.rooms.get_room("circle")
    msgs = [await svc.rooms.send(PEER, room, f"m{i}", None) for i in range(3)]
    flags = [(await flag_cmd.flag(svc.mod, OTHER, "circle", m.id, "why")).flag.id for m in msgs]
    with pytest.raises(Forbidden):
        await review.list_flags(svc.mod, FAC, None)
    with pytest.raises(Forbidden):
        await review.resolve(svc.mod, FAC, flags[0], ResolutionAction.DISMISS)
    assert len(await review.list_flags(svc.mod, ADMIN, FlagStatus.OPEN)) == 3

    dismissed = await review.resolve(svc.mod, ADMIN, flags[0], ResolutionAction.DISMISS, "fine")
    assert dismissed.flag.status is FlagStatus.DISMISSED and dismissed.deleted_message is None
    assert dismissed.kick is None and dismissed.flag.resolution is not None
    assert dismissed.flag.resolution.action is ResolutionAction.DISMISS and dismissed.flag.resolution.note == "fine"

    deleted = await review.resolve(svc.mod, ADMIN, flags[1], ResolutionAction.DELETE_MESSAGE)
    assert deleted.flag.status is FlagStatus.ACTIONED and deleted.deleted_message == msgs[1].id
    assert msgs[1].id not in [m.id for m in await svc.rooms.history("circle")]

    banned = await review.resolve(svc.mod, ADMIN, flags[2], ResolutionAction.BAN, None, 120)
    assert banned.kick == Kick("circle", peer, "banned", clock.now_ms() + 120_000)
    with pytest.raises(Banned):
        await svc.rooms.join(PEER, "circle", "sid-again")

    with pytest.raises(Conflict):
        await review.resolve(svc.mod, ADMIN, flags[0], ResolutionAction.BAN)
    with pytest.raises(NotFound):
        await review.resolve(svc.mod, ADMIN, "f_missing", ResolutionAction.DISMISS)
    assert await review.list_flags(svc.mod, ADMIN, FlagStatus.OPEN) == []
    assert len(await review.list_flags(svc.mod, ADMIN, FlagStatus.ACTIONED)) == 2
    assert [a for a, _, _ in await _actions(svc)][:3] == [
        AuditAction.FLAG_BAN,
        AuditAction.FLAG_DELETE_MESSAGE,
        AuditAction.FLAG_DISMISS,
    ]


async def test_review_ban_uses_the_default_length(svc: Services, clock: ManualClock) -> None:
    await _circle(svc)
    room = await svc.rooms.get_room("circle")
    msg = await svc.rooms.send(PEER, room, "m", None)
    flag_id = (await flag_cmd.flag(svc.mod, OTHER, "circle", msg.id, "why")).flag.id
    result = await review.resolve(svc.mod, ADMIN, flag_id, ResolutionAction.BAN)
    assert result.kick is not None and result.kick.banned_until == clock.now_ms() + review.DEFAULT_BAN_S * 1000


async def test_audit_read_filters_limits_and_needs_review(svc: Services, clock: ManualClock) -> None:
    await _circle(svc)
    await room_admin.create_room(svc.mod, ADMIN, RoomSettings(name="Other", id="other"))
    for i in range(3):
        clock.advance(1)
        await room_admin.update_room(svc.mod, FAC, "circle", RoomSettings(topic=f"t{i}"))
    entries = await audit.read(svc.mod, ADMIN, "circle", 2)
    assert [(e.action, e.room, e.reason) for e in entries] == [("room.update", "circle", "topic")] * 2
    assert len(await audit.read(svc.mod, ADMIN, None, 100)) == 5
    assert [e.room for e in await audit.read(svc.mod, ADMIN, "other", 100)] == ["other"]
    with pytest.raises(Forbidden):
        await audit.read(svc.mod, FAC, None, 10)


async def test_staff_add_login_and_remove(svc: Services) -> None:
    with pytest.raises(Forbidden):
        await staff.add(svc.mod, FAC, "newbie", "facilitator", "long-enough")
    account = await staff.add(svc.mod, ADMIN, "newbie", "facilitator", "long-enough")
    assert account.role is Role.FACILITATOR
    with pytest.raises(Conflict):
        await staff.add(svc.mod, ADMIN, "newbie", "admin", "long-enough")
    with pytest.raises(Invalid) as info:
        await staff.add(svc.mod, ADMIN, "other", "facilitator", "short")
    assert info.value.field == "password"
    with pytest.raises(Invalid) as info:
        await staff.add(svc.mod, ADMIN, "other", "peer", "long-enough")
    assert info.value.field == "role"
    assert (await staff.login(svc.mod, svc.login_limiter, "newbie", "long-enough", "192.0.2.1")).id == account.id
    assert [a.name for a in await staff.list_all(svc.mod, ADMIN)] == ["newbie"]
    with pytest.raises(Forbidden):
        await staff.remove(svc.mod, FAC, "newbie")
    assert (await staff.remove(svc.mod, ADMIN, "newbie")).id == account.id
    with pytest.raises(NotFound):
        await staff.remove(svc.mod, ADMIN, "newbie")
    assert [(a, t) for a, t, _ in await _actions(svc)] == [("staff.remove", "newbie"), ("staff.add", "newbie")]


async def test_room_admin_create_update_delete(svc: Services) -> None:
    with pytest.raises(Forbidden):
        await room_admin.create_room(svc.mod, PEER, RoomSettings(name="Mine"))
    room = await room_admin.create_room(
        svc.mod, FAC, RoomSettings(name="Grief Circle", topic=None, locked=True, guidelines="Be kind.")
    )
    assert room.id == "grief-circle" and room.topic == "" and room.locked is False  # new rooms start unlocked
    assert room.guidelines_version == 1
    with pytest.raises(Conflict):
        await room_admin.create_room(svc.mod, FAC, RoomSettings(name="Again", id="grief-circle"))
    with pytest.raises(Invalid) as info:
        await room_admin.create_room(svc.mod, FAC, RoomSettings(name=" \u202e "))
    assert info.value.field == "name"
    updated = await room_admin.update_room(
        svc.mod,
        FAC,
        room.id,
        RoomSettings(capacity=5, admission=Admission.APPROVAL, unattended=Unattended.SLOW, min_identity_age_s=60),
    )
    assert (updated.capacity, updated.admission, updated.unattended) == (5, Admission.APPROVAL, Unattended.SLOW)
    assert (await svc.rooms.get_room(room.id)).min_identity_age_s == 60
    with pytest.raises(Forbidden):
        await room_admin.delete_room(svc.mod, FAC, room.id)
    await svc.admissions.admit(room.id, svc.rooms.member_for(PEER, room.id).id, now_ms=0)  # rule 24: approval
    await svc.rooms.join(PEER, room.id, "sid")
    await mute_cmd.mute(svc.mod, FAC, room.id, svc.rooms.member_for(PEER, room.id).id, None, None)
    await room_admin.delete_room(svc.mod, ADMIN, room.id)
    with pytest.raises(NotFound):
        await svc.rooms.get_room(room.id)
    assert await svc.mod_store.get_mute(room.id, svc.rooms.member_for(PEER, room.id).id, now_ms=0) is None
    assert [(a, r) for a, r in [(e.action, e.reason) for e in await audit.read(svc.mod, ADMIN, None, 100)]][:2] == [
        ("room.delete", None),
        ("mute", None),
    ]
    updates = [e for e in await audit.read(svc.mod, ADMIN, None, 100) if e.action == "room.update"]
    assert updates[0].reason == "admission, capacity, min_identity_age_s, unattended"


async def test_staff_identity_is_exempt_from_guards(svc: Services) -> None:
    await _circle(svc)
    staff_ident = Identity("s_x", "xavier", Role.FACILITATOR, staff_id="x")
    await room_admin.update_room(svc.mod, ADMIN, "circle", RoomSettings(locked=True))
    assert (await svc.rooms.join(staff_ident, "circle", "sid-x")).you.role is Role.FACILITATOR
