"""mod:delete: a facilitator takes a message out of a room."""

from __future__ import annotations

from dataclasses import dataclass

from moderation import audit
from moderation.context import Moderation, optional_reason
from moderation.models import AuditAction
from moderation.roles import Permission, require, require_can_act_on
from rooms.models import Identity


@dataclass(frozen=True, slots=True)
class DeleteResult:
    room: str
    message_id: str


async def delete(mod: Moderation, actor: Identity, room_id: str, message_id: str, reason: str | None) -> DeleteResult:
    require(actor, Permission.MODERATE)
    why = optional_reason(reason)
    room = await mod.rooms.get_room(room_id)
    msg = await mod.rooms.find_message(room.id, message_id)  # NotFound when gone or expired
    if msg.author.id != mod.rooms.member_for(actor, room.id).id:
        require_can_act_on(actor.role, msg.author.role)
    await mod.rooms.delete_message(room.id, msg.id)
    await audit.record(mod, actor, AuditAction.DELETE, room.id, msg.author.id, why)
    return DeleteResult(room.id, msg.id)
