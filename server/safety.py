"""Safety over Socket.IO (docs/PROTOCOL.md rules 23 and 29-31): guidelines on join, crisis signals,
help requests and replies, and the ``attended`` flip when the first staff member joins or the last leaves."""

from __future__ import annotations

import logging
from typing import Any

from moderation import support
from moderation.guidelines import check_guidelines
from moderation.support import SupportOutcome
from rooms.errors import HearthError
from rooms.models import Identity, Member, Message
from server import metrics, payloads
from server.realtime import Realtime

log = logging.getLogger(__name__)
Ack = dict[str, Any]


async def staff_in_room(rt: Realtime, room_id: str) -> int:
    """Distinct staff members online in the room, on every process."""
    return sum(1 for m in await rt.svc.presence.members(room_id) if m.role.is_staff)


async def guidelines_gate(rt: Realtime, identity: Identity, p: payloads.Join) -> None:
    """Rule 23, before any other join rule (so ``guidelines`` is answered before ``waiting``)."""
    if identity.is_staff:
        return
    room = await rt.svc.rooms.get_room(p.room)
    member = rt.svc.rooms.member_for(identity, room.id)
    await check_guidelines(
        rt.svc.stores.safety,
        room.id,
        member.id,
        identity.role,
        guidelines=room.guidelines,
        version=room.guidelines_version,
        accept=p.accept_guidelines,
    )


async def attended_changed(rt: Realtime, room_id: str, *, was_attended: bool) -> None:
    """Send ``room:updated`` when presence flipped the room's ``attended``."""
    status = await rt.svc.rooms.status(room_id)
    if status.attended == was_attended:
        return
    room = await rt.svc.rooms.get_room(room_id)
    await rt.notify.room_updated(room, status.online, status.attended)
    log.info("room=%s event=attended value=%s", room_id, status.attended)


async def staff_joined(rt: Realtime, room_id: str, you: Member, members: list[Member]) -> None:
    """A staff member's first socket joined: the room is attended now if it was not before."""
    if you.role.is_staff and not any(m.role.is_staff and m.id != you.id for m in members):
        await attended_changed(rt, room_id, was_attended=False)


async def member_gone(rt: Realtime, room_id: str, member: Member) -> None:
    """A member's last socket left (or was removed or disconnected)."""
    if member.role.is_staff:
        await attended_changed(rt, room_id, was_attended=True)


async def _deliver(rt: Realtime, outcome: SupportOutcome) -> None:
    await rt.notify.mod_alert(outcome.alert)
    if outcome.flag is not None:
        await rt.notify.flag_new(outcome.flag)


async def after_send(rt: Realtime, msg: Message) -> None:
    """Rule 29, after the message went out: resources to the sender first, then staff are told.

    The message is delivered whatever happens here, so a store failing now is logged (without
    text) rather than turned into an error for a send that succeeded.
    """
    catalog = rt.svc.crisis
    if not support.is_crisis_signal(catalog, msg):
        return
    metrics.CRISIS_SIGNALS.inc()
    try:
        sids = await rt.svc.presence.sids(msg.room, msg.author.id)
        await rt.notify.support_resources(sids, msg.room, catalog.resources_wire())
        staff = await staff_in_room(rt, msg.room)
        await _deliver(rt, await support.crisis_signal(rt.svc.mod, catalog, msg, staff_in_room=staff))
    except HearthError as exc:
        log.warning("room=%s event=crisis_signal_incomplete code=%s", msg.room, exc.code)


async def support_request(rt: Realtime, sid: str, p: payloads.SupportRequest) -> Ack:
    _, member = rt.conns.member_in(sid, p.room)
    staff = await staff_in_room(rt, p.room)
    outcome = await support.support_request(rt.svc.mod, rt.svc.crisis, member, p.room, p.text, staff_in_room=staff)
    metrics.SUPPORT_REQUESTS.inc()
    await _deliver(rt, outcome)
    return {"resources": outcome.resources, "staff_notified": staff}


async def support_reply(rt: Realtime, sid: str, p: payloads.SupportReply) -> Ack:
    reply = await support.support_reply(rt.svc.mod, rt.conns.identity(sid), p.room, p.member, p.text)
    sids = await rt.svc.presence.sids(reply.room, reply.member_id)
    await rt.notify.support_reply(sids, reply)
    return {"delivered": len(sids) > 0}
