"""The audit log: every moderation action and review, never message text."""

from __future__ import annotations

from moderation.context import Moderation
from moderation.models import AuditAction, AuditEntry
from moderation.roles import Permission, require
from rooms.models import Identity

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000


async def record(
    mod: Moderation,
    actor: Identity | str,
    action: AuditAction,
    room: str | None,
    target: str | None,
    reason: str | None,
) -> None:
    name = actor if isinstance(actor, str) else actor.pseudonym  # staff pseudonym is the staff name
    await mod.store.append_audit(AuditEntry(mod.clock.now_ms(), name, action.value, room, target, reason))


async def read(mod: Moderation, actor: Identity, room: str | None, limit: int = DEFAULT_LIMIT) -> list[AuditEntry]:
    """The newest ``limit`` entries (1 to MAX_LIMIT, checked at the edge), of one room or all."""
    require(actor, Permission.REVIEW)
    return await mod.store.list_audit(room or None, limit=limit)
