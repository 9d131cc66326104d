"""The audit log: every moderation action and review, never message text."""

from __future__ import annotations

from moderation.context import Moderation
from moderation.models import AuditEntry
from moderation.roles import Permission, require
from rooms.errors import Invalid
from rooms.models import Identity

ACTIONS = frozenset(
    {
        "mute",
        "unmute",
        "remove",
        "delete",
        "room.create",
        "room.update",
        "room.delete",
        "flag.dismiss",
        "flag.delete_message",
        "flag.ban",
        "staff.add",
        "staff.remove",
        "warn",
        "admit",
        "deny",
    }
)
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


async def record(
    mod: Moderation, actor: Identity | str, action: str, room: str | None, target: str | None, reason: str | None
) -> None:
    assert action in ACTIONS, action
    name = actor if isinstance(actor, str) else actor.pseudonym  # staff pseudonym is the staff name
    await mod.store.append_audit(AuditEntry(mod.clock.now_ms(), name, action, room, target, reason))


async def read(mod: Moderation, actor: Identity, room: str | None, limit: object) -> list[AuditEntry]:
    require(actor, Permission.REVIEW)
    if limit is None or limit == "":
        count = DEFAULT_LIMIT
    else:
        try:
            count = int(str(limit))
        except ValueError:
            raise Invalid("limit must be a whole number.", field="limit") from None
        if not 1 <= count <= MAX_LIMIT:
            raise Invalid(f"limit must be from 1 to {MAX_LIMIT}.", field="limit")
    return await mod.store.list_audit(room or None, limit=count)
