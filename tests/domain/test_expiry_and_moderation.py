"""Expiry, mutes, bans and permissions on the real services with a manual clock: no sleeping."""

from __future__ import annotations

from typing import Any

import pytest

from moderation import mute as mute_cmd
from moderation import remove as remove_cmd
from moderation.models import FlagStatus, ResolutionAction
from rooms.clock import ManualClock
from rooms.errors import Banned, Forbidden, Muted, NotFound, RateLimited
from rooms.models import RoomSettings
from server.services import Services
from tests.domain.conftest import ADMIN, FAC, OTHER, PEER


async def _room(svc: Services, **fields: Any) -> None:
    await svc.rooms.create_room(RoomSettings(name="Circle", id="circle", **fields))


async def test_messages_expire_exactly_at_expires_at(svc: Services, clock: ManualClock) -> None:
    await _room(svc, message_ttl_s=60)
    room = await svc.rooms.get_room("circle")
    msg = await svc.rooms.send(PEER, room, "short-lived", None)
    assert msg.expires_at == msg.ts + 60_000
    clock.advance(59_999)
    assert [m.text for m in await svc.rooms.history("circle")] == ["short-lived"]
    assert (await svc.rooms.find_message("circle", msg.id)).id == msg.id
    clock.advance(1)
    assert await svc.rooms.history("circle") == []
    with pytest.raises(NotFound):
        await svc.rooms.find_message("circle", msg.id)


async def test_changed_ttl_applies_to_later_messages(svc: Services, clock: ManualClock) -> None:
    await _room(svc, message_ttl_s=60)
    room = await svc.rooms.get_room("circle")
    first = await svc.rooms.send(PEER, room, "one", None)
    room = await svc.rooms.update_room("circle", RoomSettings(message_ttl_s=3600))
    second = await svc.rooms.send(OTHER, room, "two", None)
    assert first.expires_at - first.ts == 60_000
    assert second.expires_at - second.ts == 3_600_000
    clock.advance(120_000)
    assert [m.text for m in await svc.rooms.history("circle")] == ["two"]


async def test_history_is_capped_at_200_newest(svc: Services, clock: ManualClock) -> None:
    await _room(svc)
    room = await svc.rooms.get_room("circle")
    for i in range(205):
        await svc.rooms.send(FAC, room, f"m{i}", None)
        clock.advance(1)
    history = await svc.rooms.history("circle")
    assert len(history) == 200
    assert history[0].text == "m5" and history[-1].text == "m204"


async def test_timed_mute_lapses_on_the_clock(svc: Services, clock: ManualClock) -> None:
    await _room(svc)
    await svc.rooms.join(PEER, "circle", "sid-1")
    member = svc.rooms.member_for(PEER, "circle").id
    result = await mute_cmd.mute(svc.mod, FAC, "circle", member, 300, "cool down")
    assert result.until == clock.now_ms() + 300_000
    room = await svc.rooms.get_room("circle")
    with pytest.raises(Muted) as info:
        await svc.rooms.send(PEER, room, "hi", None)
    assert info.value.details["until"] == result.until
    clock.advance(299_999)
    with pytest.raises(Muted):
        await svc.rooms.send(PEER, room, "hi", None)
    clock.advance(1)
    assert (await svc.rooms.send(PEER, room, "hi", None)).text == "hi"


async def test_ban_lapses_on_the_clock(svc: Services, clock: ManualClock) -> None:
    await _room(svc)
    await svc.rooms.join(PEER, "circle", "sid-1")
    member = svc.rooms.member_for(PEER, "circle").id
    result = await remove_cmd.remove(svc.mod, FAC, "circle", member, 60, None)
    await svc.presence.remove_member("circle", member)
    with pytest.raises(Banned):
        await svc.rooms.join(PEER, "circle", "sid-2")
    clock.advance(60_000)
    assert result.banned_until == clock.now_ms()
    assert (await svc.rooms.join(PEER, "circle", "sid-2")).you.id == member


async def test_rate_limit_refills_on_the_clock(svc: Services, clock: ManualClock) -> None:
    await _room(svc)
    room = await svc.rooms.get_room("circle")
    for i in range(5):
        await svc.rooms.send(PEER, room, f"m{i}", None)
    with pytest.raises(RateLimited) as info:
        await svc.rooms.send(PEER, room, "too many", None)
    assert info.value.details["retry_after_ms"] == 2000
    clock.advance(2000)
    await svc.rooms.send(PEER, room, "allowed again", None)


async def test_roles_decide_who_acts_on_whom(svc: Services) -> None:
    await _room(svc)
    for ident, sid in ((PEER, "a"), (FAC, "b"), (ADMIN, "c")):
        await svc.rooms.join(ident, "circle", sid)
    peer = svc.rooms.member_for(PEER, "circle").id
    fac = svc.rooms.member_for(FAC, "circle").id
    admin = svc.rooms.member_for(ADMIN, "circle").id
    with pytest.raises(Forbidden):
        await mute_cmd.mute(svc.mod, PEER, "circle", peer, None, None)
    with pytest.raises(Forbidden):
        await mute_cmd.mute(svc.mod, FAC, "circle", admin, None, None)
    with pytest.raises(Forbidden):
        await remove_cmd.remove(svc.mod, FAC, "circle", fac, None, None)
    assert (await mute_cmd.mute(svc.mod, ADMIN, "circle", fac, 10, None)).member_id == fac
    assert (await mute_cmd.mute(svc.mod, FAC, "circle", peer, None, None)).until is None


async def test_flag_snapshot_outlives_the_message_then_is_destroyed_after_retention(
    svc: Services, clock: ManualClock
) -> None:
    from moderation import flag as flag_cmd
    from moderation import review

    await _room(svc, message_ttl_s=60)
    room = await svc.rooms.get_room("circle")
    msg = await svc.rooms.send(PEER, room, "worrying words", None)
    await svc.rooms.join(OTHER, "circle", "sid-2")
    created = await flag_cmd.flag(svc.mod, OTHER, "circle", msg.id, "at risk")
    clock.advance(120_000)
    await svc.rooms.purge()  # the message itself is gone...
    [open_flag] = await review.list_flags(svc.mod, ADMIN, FlagStatus.OPEN)
    assert open_flag.message is not None and open_flag.message.text == "worrying words"  # ...its snapshot is not
    assert open_flag.reporter_pseudonym == OTHER.pseudonym  # the reporter's name, sealed with it
    await review.resolve(svc.mod, ADMIN, created.flag.id, ResolutionAction.DISMISS)
    clock.advance(svc.mod.flag_retention_ms - 1)
    assert await svc.mod_store.purge_flags(now_ms=clock.now_ms()) == 0
    clock.advance(1)
    assert await svc.mod_store.purge_flags(now_ms=clock.now_ms()) == 1
    [kept] = await review.list_flags(svc.mod, ADMIN, FlagStatus.DISMISSED)
    assert kept.message is None and kept.reason == "at risk"  # the record stays, the text is destroyed
    assert kept.reporter_pseudonym is None and kept.reporter == created.flag.reporter  # the name goes with it
    assert await svc.mod_store.all_flag_keys() == []
