"""Every server -> client emit: payloads come from server.wire, audiences are decided here."""

from __future__ import annotations

from typing import Any

import socketio

from moderation.alerts import Alert
from moderation.flag import Flag
from moderation.support import Reply
from rooms.models import LeaveReason, Member, Room
from server import wire


class Notifier:
    """The only caller of ``sio.emit``: handlers and HTTP routes say what happened, this says to whom."""

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio

    async def _to_room(self, event: str, payload: dict[str, Any], room_id: str, **options: Any) -> None:
        await self.sio.emit(event, payload, room=wire.channel(room_id), **options)

    async def member_joined(self, room_id: str, member: Member) -> None:
        await self._to_room("member:joined", wire.member_joined(room_id, member), room_id)

    async def member_left(
        self, room_id: str, member_id: str, reason: LeaveReason, *, skip_sid: str | None = None
    ) -> None:
        await self._to_room("member:left", wire.member_left(room_id, member_id, reason), room_id, skip_sid=skip_sid)

    async def message_new(self, room_id: str, body: dict[str, Any], *, here_only: bool = False) -> None:
        """``here_only``: this process's sockets (each process delivers from the Redis feed itself)."""
        await self._to_room("message:new", body, room_id, ignore_queue=here_only)

    async def member_typing(self, room_id: str, member_id: str, *, skip_sid: str) -> None:
        await self._to_room("member:typing", wire.member_typing(room_id, member_id), room_id, skip_sid=skip_sid)

    async def message_reacted(self, room_id: str, message_id: str, counts: dict[str, int]) -> None:
        await self._to_room("message:reacted", wire.message_reacted(room_id, message_id, counts), room_id)

    async def message_deleted(self, room_id: str, message_id: str) -> None:
        await self._to_room("message:deleted", wire.message_deleted(room_id, message_id), room_id)

    async def member_muted(self, room_id: str, member_id: str, until: int | None, reason: str | None) -> None:
        await self._to_room("member:muted", wire.member_muted(room_id, member_id, until, reason), room_id)

    async def member_unmuted(self, room_id: str, member_id: str) -> None:
        await self._to_room("member:unmuted", wire.member_unmuted(room_id, member_id), room_id)

    async def flag_new(self, flag: Flag) -> None:
        """Admins anywhere, and staff who joined the flag's room (precise rule 14)."""
        await self.sio.emit("flag:new", wire.flag(flag), room=[wire.ADMINS, wire.staff_channel(flag.room)])

    async def mod_alert(self, a: Alert) -> None:
        """Staff who joined the room, and every connected admin (an admin in both gets it once)."""
        await self.sio.emit("mod:alert", wire.alert(a), room=[wire.ADMINS, wire.staff_channel(a.room)])

    async def support_resources(self, sids: list[str], room_id: str, resources: list[dict[str, str]]) -> None:
        """Only the sockets of the member concerned; nobody else learns that a signal fired."""
        body = wire.support_resources(room_id, resources)
        for sid in sids:
            await self.sio.emit("support:resources", body, to=sid)

    async def support_reply(self, sids: list[str], reply: Reply) -> None:
        body = wire.support_reply(reply)
        for sid in sids:
            await self.sio.emit("support:reply", body, to=sid)

    async def room_updated(self, room: Room, online: int, attended: bool) -> dict[str, Any]:
        body = wire.room(room, online, attended)
        await self._to_room("room:updated", body, room.id)
        return body

    async def room_removed_sid(
        self, sid: str, room_id: str, reason: str, banned_until: int | None, *, here_only: bool = False
    ) -> None:
        payload = wire.room_removed(room_id, reason, banned_until)
        await self.sio.emit("room:removed", payload, to=sid, ignore_queue=here_only)

    async def room_deleted(self, room_id: str) -> None:
        await self._to_room("room:removed", wire.room_removed(room_id, "room_deleted", None), room_id)

    async def _to_staff(self, event: str, payload: dict[str, Any], room_id: str) -> None:
        """Staff in the room and every connected admin (once each)."""
        await self.sio.emit(event, payload, room=[wire.ADMINS, wire.staff_channel(room_id)])

    async def member_waiting(self, room_id: str, member: Member) -> None:
        await self._to_staff("member:waiting", wire.member_waiting(room_id, member), room_id)

    async def room_admitted(self, room_id: str, member_id: str) -> None:
        await self.sio.emit("room:admitted", wire.room_admitted(room_id), room=wire.waiting_channel(room_id, member_id))

    async def room_denied(self, room_id: str, member_id: str, reason: str) -> None:
        channel = wire.waiting_channel(room_id, member_id)
        await self.sio.emit("room:removed", wire.room_removed(room_id, reason, None), room=channel)
        await self.sio.close_room(channel)

    async def member_warned(self, sids: list[str], room_id: str, text: str, by: Member) -> None:
        body = wire.member_warned(room_id, text, by)
        for sid in sids:
            await self.sio.emit("member:warned", body, to=sid)

    async def server_closing(self, sid: str, retry_after_ms: int = 1000) -> None:
        await self.sio.emit("server:closing", wire.server_closing(retry_after_ms), to=sid, ignore_queue=True)
