"""Admin review of flags: list them and resolve each once (dismiss, delete the message, or ban)."""

from __future__ import annotations

from dataclasses import dataclass

from moderation import audit
from moderation.context import Moderation, optional_duration
from moderation.flag import Flag, open_flag
from moderation.models import Resolution
from moderation.remove import ban as ban_member
from moderation.roles import Permission, require
from rooms.errors import Conflict, Invalid, NotFound
from rooms.models import Identity
from rooms.text import clean_text

STATUSES = ("open", "dismissed", "actioned")
ACTIONS = ("dismiss", "delete_message", "ban")
DEFAULT_BAN_S = 7 * 86400


@dataclass(frozen=True, slots=True)
class ReviewResult:
    flag: Flag
    deleted_message: str | None  # the message id when it was taken out of its room
    banned_until: int | None  # set when the author was removed and banned


async def list_flags(mod: Moderation, actor: Identity, status: object) -> list[Flag]:
    require(actor, Permission.REVIEW)
    if status in (None, ""):
        wanted = None
    elif status in STATUSES:
        wanted = str(status)
    else:
        raise Invalid("status must be open, dismissed or actioned.", field="status")
    return [open_flag(mod, f) for f in await mod.store.list_flags(wanted, limit=1000)]


async def resolve(mod: Moderation, actor: Identity, flag_id: str, body: object) -> ReviewResult:
    require(actor, Permission.REVIEW)
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object.")
    action = body.get("action")
    if action not in ACTIONS:
        raise Invalid("action must be dismiss, delete_message or ban.", field="action")
    note = None if body.get("note") in (None, "") else clean_text(body.get("note"), field="note", max_len=500)
    ban_s = optional_duration(body.get("ban_s"), "ban_s") or DEFAULT_BAN_S
    stored = await mod.store.get_flag(flag_id)
    if stored is None:
        raise NotFound("No such flag.")
    if stored.status != "open":
        raise Conflict("This flag has already been resolved.")
    if action != "dismiss" and stored.message_id is None:
        raise Invalid("This flag is about no message: it can only be dismissed.", field="action")
    now = mod.clock.now_ms()
    resolution = Resolution(str(action), actor.pseudonym, now, note)
    status = "dismissed" if action == "dismiss" else "actioned"
    if not await mod.store.resolve_flag(flag_id, status, resolution, now + mod.flag_retention_ms):
        raise Conflict("This flag has already been resolved.")
    deleted = None
    banned_until = None
    room_exists = await mod.rooms.store.get_room(stored.room) is not None
    if (
        action == "delete_message"
        and room_exists
        and stored.message_id is not None
        and await mod.rooms.delete_message(stored.room, stored.message_id)
    ):
        deleted = stored.message_id
    if action == "ban" and room_exists and stored.author_id is not None:
        banned_until = await ban_member(mod, stored.room, stored.author_id, ban_s, note)
    await audit.record(mod, actor, f"flag.{action}", stored.room, flag_id, note)
    updated = await mod.store.get_flag(flag_id)
    assert updated is not None
    return ReviewResult(open_flag(mod, updated), deleted, banned_until)
