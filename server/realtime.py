"""The live side of the server as handlers and HTTP routes see it: services, sockets, emits, control."""

from __future__ import annotations

from dataclasses import dataclass

from moderation.remove import Kick
from rooms.models import LeaveReason, Room
from server.connections import Connections
from server.control import Control
from server.delivery import Delivery
from server.notify import Notifier
from server.services import Services


@dataclass(frozen=True)
class Realtime:
    svc: Services
    conns: Connections
    notify: Notifier
    control: Control
    delivery: Delivery

    async def kick(self, kick: Kick) -> None:
        """Take every socket of a member out of a room, on every process, and tell them why.

        Every process holding one confirms over the control bus; without every confirmation this
        raises Unavailable, so a moderator is never told a removal happened when it did not.
        """
        holders = await self.svc.presence.holders(kick.room, kick.member_id)
        await self.control.kick(kick, holders)
        sids = await self.svc.presence.remove_member(kick.room, kick.member_id, banned_until=kick.banned_until)
        if holders or sids:
            await self.notify.member_left(kick.room, kick.member_id, LeaveReason.REMOVED)
            record = await self.svc.rooms.store.get_member(kick.room, kick.member_id)
            if record is not None and record.role.is_staff:  # the last staff member may have gone (rule 31)
                status = await self.svc.rooms.status(kick.room)
                if not status.attended:
                    room = await self.svc.rooms.get_room(kick.room)
                    await self.notify.room_updated(room, status.online, status.attended)

    async def room_updated(self, room: Room) -> dict[str, object]:
        """Settings changed: every process forgets its copy, members get ``room:updated``."""
        await self.control.room_changed(room.id)
        status = await self.svc.rooms.status(room.id)
        return await self.notify.room_updated(room, status.online, status.attended)

    async def room_deleted(self, room_id: str) -> None:
        await self.control.room_changed(room_id)
        await self.notify.room_deleted(room_id)
        await self.conns.close_room(room_id)
