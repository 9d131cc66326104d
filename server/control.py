"""Cross-process control messages: a room's settings changed, a staff account was removed."""

from __future__ import annotations

from typing import Any

from moderation.returning import ReturningSignal
from rooms.service import RoomService
from server.bus import Bus
from server.connections import Connections

ROOM_CHANGED = "room_changed"
STAFF_REMOVED = "staff_removed"
SANCTIONED = "sanctioned"


class Control:
    def __init__(
        self, bus: Bus, rooms: RoomService, conns: Connections, returning: ReturningSignal | None = None
    ) -> None:
        self.bus = bus
        self.rooms = rooms
        self.conns = conns
        self.returning = returning

    async def sanctioned(self, room_id: str, member_id: str, until: int | None) -> None:
        """A member was muted or banned: every process marks the addresses of that member's sockets (rule 26).

        The local sockets are marked at once (before a removal takes them out of the room); the
        message carries ids and times only, never an address.
        """
        await self._mark(room_id, member_id, until)
        await self.bus.publish({"op": SANCTIONED, "room": room_id, "member": member_id, "until": until})

    async def _mark(self, room_id: str, member_id: str, until: object) -> None:
        if self.returning is None or not (until is None or isinstance(until, int)):
            return
        addresses = self.conns.addresses_of(room_id, member_id)
        if addresses:
            await self.returning.remember(room_id, member_id, addresses, until)

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
        elif op == SANCTIONED:
            await self._mark(str(message.get("room")), str(message.get("member")), message.get("until"))
        elif op == STAFF_REMOVED:
            for sid in self.conns.staff_sids(str(message.get("staff_id"))):
                await self.conns.disconnect(sid)
