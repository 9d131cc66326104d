"""Cross-process control messages: a room's settings changed, a staff account was removed, a kick."""

from __future__ import annotations

from typing import Any

from moderation.remove import Kick
from moderation.returning import ReturningSignal
from rooms.presence import Presence
from rooms.service import RoomService
from server.bus import Bus
from server.connections import Connections
from server.notify import Notifier

ROOM_CHANGED = "room_changed"
STAFF_REMOVED = "staff_removed"
KICK = "kick"
SANCTIONED = "sanctioned"


class Control:
    def __init__(
        self,
        bus: Bus,
        rooms: RoomService,
        conns: Connections,
        notify: Notifier,
        presence: Presence,
        returning: ReturningSignal | None = None,
    ) -> None:
        self.bus = bus
        self.rooms = rooms
        self.conns = conns
        self.notify = notify
        self.presence = presence
        self.returning = returning
        presence.on_removed_while_away(self.removed_while_away)

    async def sanctioned(self, room_id: str, member_id: str, until: int | None) -> None:
        """A member was muted or banned: every process marks the addresses of that member's sockets (rule 26).

        The local sockets are marked at once (before a removal takes them out of the room); the
        message carries ids and times only, never an address. A ban's kick marks them too, on
        each process before it answers, so a ban's marks are in place when ``mod:remove`` answers.
        """
        await self._mark(room_id, member_id, until)
        await self.bus.publish({"op": SANCTIONED, "room": room_id, "member": member_id, "until": until})

    async def _mark(self, room_id: str, member_id: str, until: object) -> None:
        if self.returning is None or not (until is None or isinstance(until, int)):
            return
        addresses = self.conns.addresses_of(room_id, member_id)
        if addresses:
            await self.returning.remember(room_id, member_id, addresses, until)

    async def kick(self, kick: Kick, holders: set[str]) -> None:
        """Have every process in ``holders`` take its sockets of the member out; Unavailable unless all did."""
        message = {
            "op": KICK,
            "room": kick.room,
            "member": kick.member_id,
            "reason": kick.reason,
            "banned_until": kick.banned_until,
        }
        await self.bus.request(message, to=holders)

    async def _kick_here(self, message: dict[str, Any]) -> None:
        room_id, member_id = str(message.get("room")), str(message.get("member"))
        until = message.get("banned_until")
        if isinstance(until, int):
            await self._mark(room_id, member_id, until)
        self.presence.forget(room_id, member_id)
        for sid in self.conns.member_sids(room_id, member_id):
            reason = str(message.get("reason"))
            await self.notify.room_removed_sid(
                sid, room_id, reason, until if isinstance(until, int) else None, here_only=True
            )
            await self.conns.leave(sid, room_id)

    async def removed_while_away(self, room_id: str, member_id: str, banned_until: int | None) -> None:
        """This process was cut off from Redis (and reaped) while the member was removed: it missed the
        kick, so it carries it out now that it is back, instead of putting the sockets back in the room."""
        reason = "removed" if banned_until is None else "banned"
        await self._kick_here({"room": room_id, "member": member_id, "reason": reason, "banned_until": banned_until})

    async def room_changed(self, room_id: str) -> None:
        """Tell every process to drop its cached copy of a room's settings."""
        self.rooms.forget_room(room_id)
        await self.bus.publish({"op": ROOM_CHANGED, "room": room_id})

    async def staff_removed(self, staff_id: str) -> None:
        """Disconnect a removed staff account's sockets on every process."""
        await self.bus.publish({"op": STAFF_REMOVED, "staff_id": staff_id})

    async def on_message(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == KICK:
            await self._kick_here(message)
        elif op == SANCTIONED:
            await self._mark(str(message.get("room")), str(message.get("member")), message.get("until"))
        elif op == ROOM_CHANGED:
            self.rooms.forget_room(str(message.get("room")))
        elif op == STAFF_REMOVED:
            for sid in self.conns.staff_sids(str(message.get("staff_id"))):
                await self.conns.disconnect(sid)
