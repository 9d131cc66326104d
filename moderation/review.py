"""Admin review of flags: list them and resolve each once (dismiss, delete the message, or ban)."""

from __future__ import annotations

from dataclasses import dataclass

from moderation import audit
from moderation.admission import forget_on_removal
from moderation.context import Moderation, optional_reason
from moderation.flag import Flag, open_flag
from moderation.models import AuditAction, FlagStatus, Resolution, ResolutionAction
from moderation.remove import Kick
from moderation.remove import ban as ban_member
from moderation.roles import Permission, require
from rooms.errors import Conflict, Invalid, NotFound
from rooms.models import Identity

DEFAULT_BAN_S = 7 * 86400
LIST_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class ReviewResult:
    flag: Flag
    deleted_message: str | None  # the message id when it was taken out of its room
    kick: Kick | None  # set when the author was banned: take them out of the room now


async def list_flags(mod: Moderation, actor: Identity, status: FlagStatus | None) -> list[Flag]:
    require(actor, Permission.REVIEW)
    return [open_flag(mod, f) for f in await mod.store.list_flags(status, limit=LIST_LIMIT)]


async def resolve(
    mod: Moderation,
    actor: Identity,
    flag_id: str,
    action: ResolutionAction,
    note: str | None = None,
    ban_s: int | None = None,
) -> ReviewResult:
    require(actor, Permission.REVIEW)
    why = optional_reason(note, "note")
    stored = await mod.store.get_flag(flag_id)
    if stored is None:
        raise NotFound("No such flag.")
    if stored.status is not FlagStatus.OPEN:
        raise Conflict("This flag has already been resolved.")
    if action is not ResolutionAction.DISMISS and stored.message_id is None:
        raise Invalid("This flag is about no message: it can only be dismissed.", field="action")
    now = mod.clock.now_ms()
    resolution = Resolution(action, actor.pseudonym, now, why)
    if not await mod.store.resolve_flag(flag_id, action.status, resolution, now + mod.flag_retention_ms):
        raise Conflict("This flag has already been resolved.")
    deleted = None
    kick = None
    room_exists = await mod.rooms.room_exists(stored.room)
    if (
        action is ResolutionAction.DELETE_MESSAGE
        and room_exists
        and stored.message_id is not None
        and await mod.rooms.delete_message(stored.room, stored.message_id)
    ):
        deleted = stored.message_id
    if action is ResolutionAction.BAN and room_exists and stored.author_id is not None:
        until = await ban_member(mod, stored.room, stored.author_id, ban_s or DEFAULT_BAN_S, why)
        await forget_on_removal(mod, stored.room, stored.author_id)
        kick = Kick(stored.room, stored.author_id, "banned", until)
    await audit.record(mod, actor, AuditAction.for_resolution(action), stored.room, flag_id, why)
    updated = await mod.store.get_flag(flag_id)
    assert updated is not None
    return ReviewResult(open_flag(mod, updated), deleted, kick)
