"""Creating, changing and deleting rooms: staff actions, recorded in the audit log."""

from __future__ import annotations

from moderation import audit
from moderation.context import Moderation
from moderation.roles import Permission, require
from rooms.errors import Invalid
from rooms.models import Identity, Room


async def create_room(mod: Moderation, actor: Identity, body: object) -> Room:
    require(actor, Permission.MANAGE_ROOMS)
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object.")
    room = await mod.rooms.create_room(body)
    await audit.record(mod, actor, "room.create", room.id, None, None)
    return room


async def update_room(mod: Moderation, actor: Identity, room_id: str, body: object) -> Room:
    require(actor, Permission.MANAGE_ROOMS)
    if not isinstance(body, dict):
        raise Invalid("The body must be a JSON object.")
    room = await mod.rooms.update_room(room_id, body)
    await audit.record(mod, actor, "room.update", room.id, None, ", ".join(sorted(body)) or None)
    return room


async def delete_room(mod: Moderation, actor: Identity, room_id: str) -> Room:
    require(actor, Permission.DELETE_ROOMS)
    room = await mod.rooms.delete_room(room_id)
    await mod.store.delete_room(room.id)
    await audit.record(mod, actor, "room.delete", room.id, None, None)
    return room
