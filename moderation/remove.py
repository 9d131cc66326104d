"""mod:remove, with an optional ban."""

from __future__ import annotations

from dataclasses import dataclass

from moderation import audit
from moderation.admission import forget_on_removal
from moderation.context import Moderation, optional_reason, target_member
from moderation.models import AuditAction, Ban
from moderation.roles import Permission, require
from rooms.models import Identity


@dataclass(frozen=True, slots=True)
class Kick:
    """Who must be taken out of a room now, and what they are told (``room:removed``)."""

    room: str
    member_id: str
    reason: str  # "removed", "banned" or a moderator's reason
    banned_until: int | None


@dataclass(frozen=True, slots=True)
class RemoveResult:
    room: str
    member_id: str
    banned_until: int | None
    reason: str | None

    @property
    def kick(self) -> Kick:
        return Kick(self.room, self.member_id, self.reason or "removed", self.banned_until)


async def ban(mod: Moderation, room_id: str, member_id: str, ban_s: int, reason: str | None) -> int:
    until = mod.clock.now_ms() + ban_s * 1000
    await mod.store.set_ban(Ban(room_id, member_id, until, reason))
    return until


async def remove(
    mod: Moderation, actor: Identity, room_id: str, member: str, ban_s: int | None, reason: str | None
) -> RemoveResult:
    require(actor, Permission.MODERATE)
    why = optional_reason(reason)
    room, target = await target_member(mod, actor, room_id, member)
    until = None if ban_s is None else await ban(mod, room.id, target.member_id, ban_s, why)
    await forget_on_removal(mod, room.id, target.member_id)
    await audit.record(mod, actor, AuditAction.REMOVE, room.id, target.member_id, why)
    return RemoveResult(room.id, target.member_id, until, why)
