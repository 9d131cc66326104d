"""mod:warn (precise rule 28): a private word from staff to one member; its text is not kept anywhere."""

from __future__ import annotations

from dataclasses import dataclass

from moderation import audit
from moderation.context import Moderation, target_member
from moderation.models import AuditAction
from moderation.roles import Permission, require
from rooms.models import Identity, Member
from rooms.text import clean_text

MAX_WARNING = 500


@dataclass(frozen=True, slots=True)
class WarnResult:
    room: str
    member_id: str
    text: str
    by: Member  # the warning staff member as seen in that room


async def warn(mod: Moderation, actor: Identity, room_id: str, member: str, text: str) -> WarnResult:
    require(actor, Permission.MODERATE)
    clean = clean_text(text, field="text", max_len=MAX_WARNING)
    room, target = await target_member(mod, actor, room_id, member)
    await audit.record(mod, actor, AuditAction.WARN, room.id, target.member_id, None)  # never the text
    return WarnResult(room.id, target.member_id, clean, mod.rooms.member_for(actor, room.id))
