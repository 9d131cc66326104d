"""mod:admit and mod:deny (precise rule 24): who may enter a room with admission by approval."""

from __future__ import annotations

from dataclasses import dataclass

from moderation import audit
from moderation.context import Moderation, optional_reason, target_member
from moderation.models import AuditAction
from moderation.roles import Permission, require
from rooms.models import Identity

DENIED = "denied"


@dataclass(frozen=True, slots=True)
class AdmissionResult:
    room: str
    member_id: str
    reason: str | None = None  # for a denial: the given reason, or "denied"


async def admit(mod: Moderation, actor: Identity, room_id: str, member: str) -> AdmissionResult:
    require(actor, Permission.MODERATE)
    room, target = await target_member(mod, actor, room_id, member)
    if mod.admissions is not None:
        await mod.admissions.admit(room.id, target.member_id, now_ms=mod.clock.now_ms())
    await audit.record(mod, actor, AuditAction.ADMIT, room.id, target.member_id, None)
    return AdmissionResult(room.id, target.member_id)


async def deny(mod: Moderation, actor: Identity, room_id: str, member: str, reason: str | None) -> AdmissionResult:
    """Turn a waiting peer away; they may ask again by joining again (a ban keeps them out)."""
    require(actor, Permission.MODERATE)
    why = optional_reason(reason)
    room, target = await target_member(mod, actor, room_id, member)
    if mod.admissions is not None:
        await mod.admissions.revoke(room.id, target.member_id)
    await audit.record(mod, actor, AuditAction.DENY, room.id, target.member_id, why)
    return AdmissionResult(room.id, target.member_id, why or DENIED)


async def forget_on_removal(mod: Moderation, room_id: str, member_id: str) -> None:
    """Admission is remembered until the member is removed (rule 24)."""
    if mod.admissions is not None:
        await mod.admissions.revoke(room_id, member_id)
