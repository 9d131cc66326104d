"""Socket.IO handlers: payload -> domain call -> ack and broadcasts. No business rules here."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import socketio
from aiohttp import web
from socketio import packet

from moderation import delete as delete_cmd
from moderation import flag as flag_cmd
from moderation import mute as mute_cmd
from moderation import remove as remove_cmd
from rooms.errors import HearthError, Invalid, NotMember, RateLimited, Unauthorized
from rooms.models import Identity, Member, Role
from server import metrics, wire
from server.acks import acked, error_ack
from server.bus import Bus
from server.ip_limits import client_address
from server.services import Services

log = logging.getLogger(__name__)
NS = "/"
UNKNOWN_EVENT = Invalid("Unknown event.")


class Refused(socketio.exceptions.ConnectionRefusedError):  # type: ignore[misc]
    """A refused connect whose payload both socket.io-client and python-socketio read (precise rule 1)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error_args = {"message": message, "data": {"code": code, "message": message}}


class HearthSocketServer(socketio.AsyncServer):  # type: ignore[misc]
    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: list[Any]) -> None:
        # Precise rule 20: a client sending "connect" or "disconnect" as an ordinary event would
        # otherwise reach the lifecycle handlers; answer it like any unknown event instead.
        if data and data[0] in self.reserved_events:
            if id is not None:
                ack = self.packet_class(packet.ACK, namespace=namespace or NS, id=id, data=[error_ack(UNKNOWN_EVENT)])
                await self._send_packet(eio_sid, ack)
            return
        await super()._handle_event(eio_sid, namespace, id, data)


@dataclass
class Conn:
    """One socket's identity and the rooms it has joined (member per room)."""

    identity: Identity
    rooms: dict[str, Member] = field(default_factory=dict)


class SocketHandlers:
    def __init__(self, sio: socketio.AsyncServer, svc: Services, bus: Bus) -> None:
        self.sio = sio
        self.svc = svc
        self.bus = bus
        self.conns: dict[str, Conn] = {}

    # helpers -------------------------------------------------------------

    def _conn(self, sid: str) -> Conn:
        conn = self.conns.get(sid)
        if conn is None:  # only a socket whose connect was refused or has just closed
            raise Unauthorized("This connection is not signed in.")
        return conn

    def in_channel(self, sid: str, room_id: str) -> bool:
        # The Socket.IO room is the truth about membership: a removal on another process
        # takes the socket out of it through the message queue.
        room = self.sio.manager.rooms.get(NS, {}).get(wire.channel(room_id))
        return room is not None and sid in room

    def _joined(self, sid: str, data: dict[str, Any]) -> tuple[Conn, str, Member]:
        conn = self._conn(sid)
        room_id = wire.room_id(data)
        member = conn.rooms.get(room_id)
        if member is None or not self.in_channel(sid, room_id):
            conn.rooms.pop(room_id, None)
            raise NotMember(room_id)
        return conn, room_id, member

    async def kick(self, room_id: str, member_id: str, payload: dict[str, Any]) -> None:
        """Take every socket of a member out of a room, on every process, and tell them why."""
        sids = await self.svc.presence.remove_member(room_id, member_id)
        for sid in sids:
            await self.sio.emit("room:removed", payload, to=sid)
            await self.sio.leave_room(sid, wire.channel(room_id))
            await self.sio.leave_room(sid, wire.staff_channel(room_id))
        if sids:
            await self.sio.emit(
                "member:left",
                {"room": room_id, "member_id": member_id, "reason": "removed"},
                room=wire.channel(room_id),
            )

    async def close_room(self, room_id: str) -> None:
        await self.room_changed(room_id)
        payload = {"room": room_id, "reason": "room_deleted", "banned_until": None}
        await self.sio.emit("room:removed", payload, room=wire.channel(room_id))
        await self.sio.close_room(wire.channel(room_id))
        await self.sio.close_room(wire.staff_channel(room_id))

    async def disconnect_staff(self, staff_id: str) -> None:
        """Disconnect a removed staff account's sockets on every process."""
        await self.bus.publish({"op": "staff_removed", "staff_id": staff_id})

    async def room_changed(self, room_id: str) -> None:
        """Tell every process to drop its cached copy of a room's settings."""
        self.svc.rooms.forget_room(room_id)
        await self.bus.publish({"op": "room_changed", "room": room_id})

    async def on_control(self, message: dict[str, Any]) -> None:
        if message.get("op") == "room_changed":
            self.svc.rooms.forget_room(str(message.get("room")))
        elif message.get("op") == "staff_removed":
            for sid, conn in list(self.conns.items()):
                if conn.identity.staff_id == message.get("staff_id"):
                    await self.sio.disconnect(sid, ignore_queue=True)

    async def reap_presence(self) -> None:
        """Report members whose only sockets were on a process that died without saying goodbye."""
        for room_id, member_id in await self.svc.presence.reap():
            await self.sio.emit(
                "member:left",
                {"room": room_id, "member_id": member_id, "reason": "disconnected"},
                room=wire.channel(room_id),
            )

    async def emit_flag(self, flag: dict[str, Any]) -> None:
        await self.sio.emit("flag:new", flag, room=[wire.ADMINS, wire.staff_channel(flag["room"])])

    async def shutdown(self) -> None:
        """SIGTERM: tell every local socket why it is being closed, then close it."""
        notice = {
            "code": "unavailable",
            "message": "The server is restarting; reconnect shortly.",
            "retry_after_ms": 1000,
        }
        for sid in list(self.conns):
            try:
                await self.sio.emit("server:closing", notice, to=sid, ignore_queue=True)
                await self.sio.disconnect(sid, ignore_queue=True)
            except Exception:  # a socket that is already gone
                log.debug("sid=%s event=shutdown_disconnect_failed", sid)

    # registration --------------------------------------------------------

    def register(self) -> None:
        sio, svc = self.sio, self.svc

        @sio.event  # type: ignore[untyped-decorator]
        async def connect(sid: str, environ: dict[str, Any], auth: object = None) -> None:
            request: web.Request | None = environ.get("aiohttp.request")
            address = client_address(
                request.remote if request else None,
                request.headers.get("X-Forwarded-For") if request else None,
                svc.config.trusted_proxies,
            )
            try:
                svc.ip_limiter.hit("connect", address)
                token = auth.get("token") if isinstance(auth, dict) else None
                identity = await svc.auth.identify(token)
            except RateLimited as exc:
                raise Refused("rate_limited", exc.message) from None
            except HearthError as exc:
                raise Refused(exc.code, exc.message) from None
            self.conns[sid] = Conn(identity)
            if identity.role is Role.ADMIN:
                await sio.enter_room(sid, wire.ADMINS)
            metrics.SOCKETS.inc()
            log.info("event=connect sid=%s role=%s", sid, identity.role.wire)

        @sio.event  # type: ignore[untyped-decorator]
        async def disconnect(sid: str, reason: object = None) -> None:
            conn = self.conns.pop(sid, None)
            if conn is None:
                return
            metrics.SOCKETS.dec()
            for room_id, member in conn.rooms.items():
                try:
                    if await svc.rooms.leave(room_id, member.id, sid):
                        await sio.emit(
                            "member:left",
                            {"room": room_id, "member_id": member.id, "reason": "disconnected"},
                            room=wire.channel(room_id),
                            skip_sid=sid,
                        )
                except HearthError:
                    log.warning("event=disconnect sid=%s room=%s code=presence_cleanup_failed", sid, room_id)
            log.info("event=disconnect sid=%s", sid)

        @sio.on("*")  # type: ignore[untyped-decorator]
        async def unknown(event: str, sid: str, *args: object) -> dict[str, Any]:
            metrics.observe_event("unknown", "invalid", 0.0)
            return error_ack(UNKNOWN_EVENT)

        @sio.on("room:join")  # type: ignore[untyped-decorator]
        @acked("room:join")
        async def room_join(sid: str, data: object) -> dict[str, Any]:
            conn = self._conn(sid)
            req = wire.payload(data)
            result = await svc.rooms.join(conn.identity, wire.room_id(req), sid)
            room_id = result.room.id
            already = room_id in conn.rooms and self.in_channel(sid, room_id)
            conn.rooms[room_id] = result.you
            await sio.enter_room(sid, wire.channel(room_id))
            if conn.identity.is_staff:
                await sio.enter_room(sid, wire.staff_channel(room_id))
            if result.first_socket and not already:
                await sio.emit(
                    "member:joined",
                    {"room": room_id, "member": wire.member(result.you)},
                    room=wire.channel(room_id),
                )
            mute = await svc.guards.current_mute(room_id, result.you.id)
            return {
                "room": wire.room(result.room, result.members_online),
                "mute": None if mute is None else {"until": mute.until},
                "you": wire.member(result.you),
                "members": [wire.member(m) for m in result.members],
                "history": [wire.message(m) for m in result.history],
            }

        @sio.on("room:leave")  # type: ignore[untyped-decorator]
        @acked("room:leave")
        async def room_leave(sid: str, data: object) -> dict[str, Any]:
            conn, room_id, member = self._joined(sid, wire.payload(data))
            del conn.rooms[room_id]
            await sio.leave_room(sid, wire.channel(room_id))
            await sio.leave_room(sid, wire.staff_channel(room_id))
            if await svc.rooms.leave(room_id, member.id, sid):
                await sio.emit(
                    "member:left",
                    {"room": room_id, "member_id": member.id, "reason": "left"},
                    room=wire.channel(room_id),
                )
            return {}

        @sio.on("message:send")  # type: ignore[untyped-decorator]
        @acked("message:send")
        async def message_send(sid: str, data: object) -> dict[str, Any]:
            req = wire.payload(data)
            conn, room_id, member = self._joined(sid, req)
            room = await svc.rooms.get_room(room_id)
            msg = await svc.rooms.send(conn.identity, room, req.get("text"), req.get("client_id"), shown=member)
            body = wire.message(msg)
            await sio.emit("message:new", body, room=wire.channel(room_id))
            metrics.MESSAGES.inc()
            return {"message": body}

        @sio.on("message:flag")  # type: ignore[untyped-decorator]
        @acked("message:flag")
        async def message_flag(sid: str, data: object) -> dict[str, Any]:
            req = wire.payload(data)
            conn, room_id, member = self._joined(sid, req)
            wait = svc.rooms.limiter.check(("flag:" + room_id, member.id))
            if wait:
                raise RateLimited(wait, "You are flagging too quickly; wait a moment.")
            result = await flag_cmd.flag(svc.mod, conn.identity, room_id, req.get("message_id"), req.get("reason"))
            if result.created:
                svc.rooms.limiter.spend(("flag:" + room_id, member.id))
                await self.emit_flag(wire.flag(result.flag))
            return {"flag_id": result.flag.id}

        @sio.on("mod:mute")  # type: ignore[untyped-decorator]
        @acked("mod:mute")
        async def mod_mute(sid: str, data: object) -> dict[str, Any]:
            req = wire.payload(data)
            result = await mute_cmd.mute(
                svc.mod,
                self._conn(sid).identity,
                req.get("room"),
                req.get("member"),
                req.get("duration_s"),
                req.get("reason"),
            )
            await sio.emit(
                "member:muted",
                {"room": result.room, "member_id": result.member_id, "until": result.until, "reason": result.reason},
                room=wire.channel(result.room),
            )
            return {"until": result.until}

        @sio.on("mod:unmute")  # type: ignore[untyped-decorator]
        @acked("mod:unmute")
        async def mod_unmute(sid: str, data: object) -> dict[str, Any]:
            req = wire.payload(data)
            result = await mute_cmd.unmute(svc.mod, self._conn(sid).identity, req.get("room"), req.get("member"))
            await sio.emit(
                "member:unmuted", {"room": result.room, "member_id": result.member_id}, room=wire.channel(result.room)
            )
            return {}

        @sio.on("mod:remove")  # type: ignore[untyped-decorator]
        @acked("mod:remove")
        async def mod_remove(sid: str, data: object) -> dict[str, Any]:
            req = wire.payload(data)
            result = await remove_cmd.remove(
                svc.mod,
                self._conn(sid).identity,
                req.get("room"),
                req.get("member"),
                req.get("ban_s"),
                req.get("reason"),
            )
            await self.kick(
                result.room,
                result.member_id,
                {"room": result.room, "reason": result.reason or "removed", "banned_until": result.banned_until},
            )
            return {"banned_until": result.banned_until}

        @sio.on("mod:delete")  # type: ignore[untyped-decorator]
        @acked("mod:delete")
        async def mod_delete(sid: str, data: object) -> dict[str, Any]:
            req = wire.payload(data)
            result = await delete_cmd.delete(
                svc.mod, self._conn(sid).identity, req.get("room"), req.get("message_id"), req.get("reason")
            )
            await sio.emit(
                "message:deleted",
                {"room": result.room, "message_id": result.message_id},
                room=wire.channel(result.room),
            )
            return {}
