"""Socket.IO event handlers: typed payload -> domain call -> ack and notifications; one flat table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from socketio import packet

from moderation import admission as admission_cmd
from moderation import delete as delete_cmd
from moderation import flag as flag_cmd
from moderation import mute as mute_cmd
from moderation import remove as remove_cmd
from moderation import warn as warn_cmd
from moderation.alerts import new_alert
from moderation.unattended import room_for_send
from rooms.errors import Invalid, Waiting
from rooms.models import LeaveReason, Unattended
from server import metrics, payloads, safety, wire
from server.acks import acked, error_ack
from server.realtime import Realtime
from server.transport import TransportServer

NS = "/"
UNKNOWN_EVENT = Invalid("Unknown event.")
Ack = dict[str, Any]


async def room_join(rt: Realtime, sid: str, p: payloads.Join) -> Ack:
    identity = rt.conns.identity(sid)
    await safety.guidelines_gate(rt, identity, p)  # rule 24: guidelines are answered before waiting
    rejoin = rt.conns.in_room(sid, p.room)
    listening: list[str] = []

    async def listen(room_id: str) -> None:  # before the history is read (RoomService.join)
        listening.append(room_id)
        await rt.conns.listen(sid, room_id)
        await rt.delivery.follow(room_id)  # over Redis: this process reads the room's feed from here on

    try:
        result = await rt.svc.rooms.join(
            identity, p.room, sid, rejoin=rejoin, address=rt.conns.address(sid), before_history=listen
        )
    except Waiting:
        # Rule 24: the socket waits (outside the room) in a channel of its own for admit or deny.
        waiter = rt.svc.rooms.member_for(identity, p.room)
        await rt.conns.wait_for_admission(sid, p.room, waiter.id)
        await rt.notify.member_waiting(p.room, waiter)
        raise
    except BaseException:
        if listening and not rejoin:
            await rt.conns.leave(sid, listening[0])
        raise
    await rt.conns.enter(sid, result.room.id, result.you)
    if result.announce:
        await rt.notify.member_joined(result.room.id, result.you)
        await safety.staff_joined(rt, result.room.id, result.you, result.members)
    if result.returning_from is not None:
        # Rule 26: staff are told privately; the room is not (no member:muted).
        alert = new_alert(rt.svc.clock, result.room.id, "returning", result.you, related_member=result.returning_from)
        await rt.notify.mod_alert(alert)
    reactions = await rt.svc.expressions.summaries(result.room.id, result.history, result.you.id)
    return wire.join_ack(result, reactions)


async def room_leave(rt: Realtime, sid: str, p: payloads.RoomRef) -> Ack:
    _, member = rt.conns.member_in(sid, p.room)
    await rt.conns.leave(sid, p.room)
    if await rt.svc.rooms.leave(p.room, member.id, sid):
        await rt.notify.member_left(p.room, member.id, LeaveReason.LEFT)
        await safety.member_gone(rt, p.room, member)
    return {}


async def message_send(rt: Realtime, sid: str, p: payloads.Send) -> Ack:
    identity, member = rt.conns.member_in(sid, p.room)
    room = await rt.svc.rooms.get_room(p.room)
    if not identity.is_staff and room.unattended is not Unattended.OPEN:
        room = room_for_send(room, identity, attended=(await rt.svc.rooms.status(room.id)).attended)
    msg = await rt.svc.rooms.send(identity, room, p.text, p.client_id, shown=member, reply_to=p.reply_to)
    rt.svc.expressions.sent(room.id, msg.author.id)
    await rt.delivery.sent(msg)  # at once, or (Redis) from the room's feed on every process
    metrics.MESSAGES.inc()
    await safety.after_send(rt, msg)
    return {"message": wire.message(msg)}


async def typing(rt: Realtime, sid: str, p: payloads.Typing) -> Ack:
    identity, _ = rt.conns.member_in(sid, p.room)
    member = await rt.svc.expressions.typing(identity, p.room)
    if member is not None:
        await rt.notify.member_typing(p.room, member.id, skip_sid=sid)
    return {}


async def message_react(rt: Realtime, sid: str, p: payloads.React) -> Ack:
    identity, _ = rt.conns.member_in(sid, p.room)
    r = await rt.svc.expressions.react(identity, p.room, p.message_id, p.reaction, on=p.on)
    await rt.notify.message_reacted(r.room, r.message_id, r.reactions.counts)
    return wire.react_ack(r.reactions)


async def message_delete(rt: Realtime, sid: str, p: payloads.DeleteOwn) -> Ack:
    identity, _ = rt.conns.member_in(sid, p.room)
    message_id = await rt.svc.expressions.delete_own(identity, p.room, p.message_id)
    await rt.notify.message_deleted(p.room, message_id)
    return {}


async def message_flag(rt: Realtime, sid: str, p: payloads.FlagMessage) -> Ack:
    identity, member = rt.conns.member_in(sid, p.room)
    result = await flag_cmd.flag(rt.svc.mod, identity, p.room, p.message_id, p.reason, shown=member)
    if result.created:
        await rt.notify.flag_new(result.flag)
    return {"flag_id": result.flag.id}


async def mod_mute(rt: Realtime, sid: str, p: payloads.Mute) -> Ack:
    r = await mute_cmd.mute(rt.svc.mod, rt.conns.identity(sid), p.room, p.member, p.duration_s, p.reason)
    await rt.control.sanctioned(r.room, r.member_id, r.until)
    await rt.notify.member_muted(r.room, r.member_id, r.until, r.reason)
    return {"until": r.until}


async def mod_unmute(rt: Realtime, sid: str, p: payloads.Unmute) -> Ack:
    r = await mute_cmd.unmute(rt.svc.mod, rt.conns.identity(sid), p.room, p.member)
    await rt.notify.member_unmuted(r.room, r.member_id)
    return {}


async def mod_remove(rt: Realtime, sid: str, p: payloads.Remove) -> Ack:
    r = await remove_cmd.remove(rt.svc.mod, rt.conns.identity(sid), p.room, p.member, p.ban_s, p.reason)
    if r.banned_until is not None:
        await rt.control.sanctioned(r.room, r.member_id, r.banned_until)
    await rt.kick(r.kick)
    return {"banned_until": r.banned_until}


async def mod_delete(rt: Realtime, sid: str, p: payloads.Delete) -> Ack:
    r = await delete_cmd.delete(rt.svc.mod, rt.conns.identity(sid), p.room, p.message_id, p.reason)
    await rt.notify.message_deleted(r.room, r.message_id)
    return {}


async def mod_admit(rt: Realtime, sid: str, p: payloads.Admit) -> Ack:
    r = await admission_cmd.admit(rt.svc.mod, rt.conns.identity(sid), p.room, p.member)
    await rt.notify.room_admitted(r.room, r.member_id)
    return {}


async def mod_deny(rt: Realtime, sid: str, p: payloads.Deny) -> Ack:
    r = await admission_cmd.deny(rt.svc.mod, rt.conns.identity(sid), p.room, p.member, p.reason)
    await rt.notify.room_denied(r.room, r.member_id, r.reason or admission_cmd.DENIED)
    return {}


async def mod_warn(rt: Realtime, sid: str, p: payloads.Warn) -> Ack:
    r = await warn_cmd.warn(rt.svc.mod, rt.conns.identity(sid), p.room, p.member, p.text)
    await rt.notify.member_warned(await rt.svc.presence.sids(r.room, r.member_id), r.room, r.text, r.by)
    return {}


Handler = Callable[[Realtime, str, Any], Awaitable[Ack]]

# event name -> (payload struct, handler). Adding an event: a struct in server/payloads.py,
# a handler here, a line below, and any server -> client payload in server/wire.py + notify.py.
EVENTS: dict[str, tuple[type[payloads.Payload], Handler]] = {
    "room:join": (payloads.Join, room_join),
    "room:leave": (payloads.RoomRef, room_leave),
    "message:send": (payloads.Send, message_send),
    "message:flag": (payloads.FlagMessage, message_flag),
    "message:react": (payloads.React, message_react),
    "message:delete": (payloads.DeleteOwn, message_delete),
    "typing": (payloads.Typing, typing),
    "mod:mute": (payloads.Mute, mod_mute),
    "mod:unmute": (payloads.Unmute, mod_unmute),
    "mod:remove": (payloads.Remove, mod_remove),
    "mod:delete": (payloads.Delete, mod_delete),
    "mod:admit": (payloads.Admit, mod_admit),
    "mod:deny": (payloads.Deny, mod_deny),
    "mod:warn": (payloads.Warn, mod_warn),
    "support:request": (payloads.SupportRequest, safety.support_request),
    "support:reply": (payloads.SupportReply, safety.support_reply),
}


async def unknown(event: str, sid: str, *args: object) -> Ack:
    metrics.observe_event("unknown", "invalid", 0.0)
    return error_ack(UNKNOWN_EVENT)


def _bind(rt: Realtime, kind: type[payloads.Payload], handler: Handler) -> Callable[[str, Any], Awaitable[Ack]]:
    async def run(sid: str, data: Any) -> Ack:
        return await handler(rt, sid, payloads.event(kind, data))

    return run


def register(sio: socketio.AsyncServer, rt: Realtime) -> None:
    for name, (kind, handler) in EVENTS.items():
        sio.on(name, acked(name)(_bind(rt, kind, handler)))
    sio.on("*", unknown)


class HearthSocketServer(TransportServer):
    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: list[Any]) -> None:
        # Precise rule 20: a client sending "connect" or "disconnect" as an ordinary event would
        # otherwise reach the lifecycle handlers; answer it like any unknown event instead.
        if data and data[0] in self.reserved_events:
            if id is not None:
                ack = self.packet_class(packet.ACK, namespace=namespace or NS, id=id, data=[error_ack(UNKNOWN_EVENT)])
                await self._send_packet(eio_sid, ack)
            return
        await super()._handle_event(eio_sid, namespace, id, data)
