"""Creating, changing and deleting rooms: staff actions, recorded in the audit log."""

from __future__ import annotations

from moderation import audit
from moderation.context import Moderation
from moderation.models import AuditAction
from moderation.roles import Permission, require
from rooms.models import Identity, Room, RoomSettings


async def create_room(mod: Moderation, actor: Identity, settings: RoomSettings) -> Room:
    require(actor, Permission.MANAGE_ROOMS)
    room = await mod.rooms.create_room(settings)
    await audit.record(mod, actor, AuditAction.ROOM_CREATE, room.id, None, None)
    return room


async def update_room(mod: Moderation, actor: Identity, room_id: str, settings: RoomSettings) -> Room:
    require(actor, Permission.MANAGE_ROOMS)
    room = await mod.rooms.update_room(room_id, settings)
    await audit.record(mod, actor, AuditAction.ROOM_UPDATE, room.id, None, changed_fields(settings, room))
    return room


def changed_fields(settings: RoomSettings, room: Room) -> str | None:
    """The settings a PATCH gave, for the audit entry; ``locked`` reads "locked" or "unlocked"."""
    names = ["unlocked" if name == "locked" and not room.locked else name for name in settings.given()]
    return ", ".join(names) or None


async def delete_room(mod: Moderation, actor: Identity, room_id: str) -> Room:
    require(actor, Permission.DELETE_ROOMS)
    room = await mod.rooms.delete_room(room_id)
    await mod.store.delete_room(room.id)
    await audit.record(mod, actor, AuditAction.ROOM_DELETE, room.id, None, None)
    return room
