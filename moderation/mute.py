"""mod:mute and mod:unmute."""

from __future__ import annotations

from dataclasses import dataclass

from moderation import audit
from moderation.context import Moderation, optional_reason, target_member
from moderation.models import AuditAction, Mute
from moderation.roles import Permission, require
from rooms.errors import NotFound
from rooms.models import Identity


@dataclass(frozen=True, slots=True)
class MuteResult:
    room: str
    member_id: str
    until: int | None
    reason: str | None


async def mute(
    mod: Moderation, actor: Identity, room_id: str, member: str, duration_s: int | None, reason: str | None
) -> MuteResult:
    require(actor, Permission.MODERATE)
    why = optional_reason(reason)
    room, target = await target_member(mod, actor, room_id, member)
    until = None if duration_s is None else mod.clock.now_ms() + duration_s * 1000
    await mod.store.set_mute(Mute(room.id, target.member_id, until, why))
    await audit.record(mod, actor, AuditAction.MUTE, room.id, target.member_id, why)
    return MuteResult(room.id, target.member_id, until, why)


async def unmute(mod: Moderation, actor: Identity, room_id: str, member: str) -> MuteResult:
    require(actor, Permission.MODERATE)
    room, target = await target_member(mod, actor, room_id, member)
    # A mute that has lapsed is no longer in force: unmuting it is "not muted", as for no mute at all.
    in_force = await mod.store.get_mute(room.id, target.member_id, now_ms=mod.clock.now_ms())
    if not await mod.store.clear_mute(room.id, target.member_id) or in_force is None:
        raise NotFound("That member is not muted.")
    await audit.record(mod, actor, AuditAction.UNMUTE, room.id, target.member_id, None)
    return MuteResult(room.id, target.member_id, None, None)
