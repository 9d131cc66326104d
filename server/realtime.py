"""The live side of the server as handlers and HTTP routes see it: services, sockets, emits, control."""

from __future__ import annotations

from dataclasses import dataclass

from moderation.remove import Kick
from rooms.models import LeaveReason, Room
from server.connections import Connections
from server.control import Control
from server.notify import Notifier
from server.services import Services


@dataclass(frozen=True)
class Realtime:
    svc: Services
    conns: Connections
    notify: Notifier
    control: Control

    async def kick(self, kick: Kick) -> None:
        """Take every socket of a member out of a room, on every process, and tell them why."""
        sids = await self.svc.presence.remove_member(kick.room, kick.member_id)
        for sid in sids:
            await self.notify.room_removed_sid(sid, kick.room, kick.reason, kick.banned_until)
            await self.conns.leave(sid, kick.room)
        if sids:
            await self.notify.member_left(kick.room, kick.member_id, LeaveReason.REMOVED)

    async def room_updated(self, room: Room) -> dict[str, object]:
        """Settings changed: every process forgets its copy, members get ``room:updated``."""
        await self.control.room_changed(room.id)
        status = await self.svc.rooms.status(room.id)
        return await self.notify.room_updated(room, status.online, status.attended)

    async def room_deleted(self, room_id: str) -> None:
        await self.control.room_changed(room_id)
        await self.notify.room_deleted(room_id)
        await self.conns.close_room(room_id)
