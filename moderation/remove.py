"""mod:remove, with an optional ban."""

from __future__ import annotations

from dataclasses import dataclass

from moderation import audit
from moderation.admission import forget_on_removal
from moderation.context import Moderation, optional_duration, optional_reason
from moderation.models import Ban
from moderation.roles import Permission, require, require_can_act_on
from rooms.models import Identity


@dataclass(frozen=True, slots=True)
class RemoveResult:
    room: str
    member_id: str
    banned_until: int | None
    reason: str | None


async def ban(mod: Moderation, room_id: str, member_id: str, ban_s: int, reason: str | None) -> int:
    until = mod.clock.now_ms() + ban_s * 1000
    await mod.store.set_ban(Ban(room_id, member_id, until, reason))
    return until


async def remove(
    mod: Moderation, actor: Identity, room_id: object, member: object, ban_s: object, reason: object
) -> RemoveResult:
    require(actor, Permission.MODERATE)
    seconds = optional_duration(ban_s, "ban_s")
    why = optional_reason(reason)
    room = await mod.rooms.get_room(room_id)
    target = await mod.rooms.member_record(room.id, member)
    require_can_act_on(actor.role, target.role)
    until = None if seconds is None else await ban(mod, room.id, target.member_id, seconds, why)
    await forget_on_removal(mod, room.id, target.member_id)
    await audit.record(mod, actor, "remove", room.id, target.member_id, why)
    return RemoveResult(room.id, target.member_id, until, why)
