"""Cross-process control messages: a room's settings changed, a staff account was removed."""

from __future__ import annotations

from typing import Any

from rooms.service import RoomService
from server.bus import Bus
from server.connections import Connections

ROOM_CHANGED = "room_changed"
STAFF_REMOVED = "staff_removed"


class Control:
    def __init__(self, bus: Bus, rooms: RoomService, conns: Connections) -> None:
        self.bus = bus
        self.rooms = rooms
        self.conns = conns

    async def room_changed(self, room_id: str) -> None:
        """Tell every process to drop its cached copy of a room's settings."""
        self.rooms.forget_room(room_id)
        await self.bus.publish({"op": ROOM_CHANGED, "room": room_id})

    async def staff_removed(self, staff_id: str) -> None:
        """Disconnect a removed staff account's sockets on every process."""
        await self.bus.publish({"op": STAFF_REMOVED, "staff_id": staff_id})

    async def on_message(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == ROOM_CHANGED:
            self.rooms.forget_room(str(message.get("room")))
        elif op == STAFF_REMOVED:
            for sid in self.conns.staff_sids(str(message.get("staff_id"))):
                await self.conns.disconnect(sid)
