"""JSON shapes of the wire objects and of every server -> client payload (docs/PROTOCOL.md "Objects")."""

from __future__ import annotations

from typing import Any

from moderation.alerts import Alert
from moderation.flag import Flag
from moderation.models import AuditEntry, Resolution, StaffAccount
from moderation.support import Reply
from rooms.expressions import Reactions
from rooms.models import Identity, LeaveReason, Member, Message, Room
from rooms.service import JoinResult, RoomStatus


def channel(room_id: str) -> str:
    """The Socket.IO room that carries one Hearth room's broadcasts."""
    return "r:" + room_id


def staff_channel(room_id: str) -> str:
    """Staff sockets that joined a room: flag:new goes there (precise rule 14)."""
    return "s:" + room_id


ADMINS = "admins"


def room(r: Room, online: int, attended: bool) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "topic": r.topic,
        "message_ttl_s": r.message_ttl_s,
        "slow_mode_s": r.slow_mode_s,
        "locked": r.locked,
        "capacity": r.capacity,
        "members": online,
        "guidelines": r.guidelines,
        "guidelines_version": r.guidelines_version,
        "min_identity_age_s": r.min_identity_age_s,
        "admission": r.admission.value,
        "unattended": r.unattended.value,
        "attended": attended,
    }


def room_with_status(r: Room, status: RoomStatus) -> dict[str, Any]:
    return room(r, status.online, status.attended)


def member(m: Member) -> dict[str, Any]:
    return {"id": m.id, "pseudonym": m.pseudonym, "role": m.role.wire}


def message(m: Message, reactions: Reactions | None = None) -> dict[str, Any]:
    body = {
        "id": m.id,
        "room": m.room,
        "author": member(m.author),
        "text": m.text,
        "ts": m.ts,
        "expires_at": m.expires_at,
        "client_id": m.client_id,
        "reply_to": m.reply_to,
    }
    if reactions is not None:
        body["reactions"] = reactions.counts
        body["reacted"] = reactions.mine
    return body


def resolution(r: Resolution | None) -> dict[str, Any] | None:
    return None if r is None else {"action": r.action.value, "by": r.by, "at": r.at, "note": r.note}


def flag(f: Flag) -> dict[str, Any]:
    return {
        "id": f.id,
        "room": f.room,
        "message": None if f.message is None else message(f.message),
        "context": [message(m) for m in f.context],
        "reason": f.reason,
        "reporter": f.reporter,
        "reporter_pseudonym": f.reporter_pseudonym,
        "author": f.author_id,
        "created_at": f.created_at,
        "status": f.status.value,
        "resolution": resolution(f.resolution),
    }


def audit_entry(e: AuditEntry) -> dict[str, Any]:
    return {"ts": e.ts, "actor": e.actor, "action": e.action, "room": e.room, "target": e.target, "reason": e.reason}


def identity(ident: Identity) -> dict[str, Any]:
    return {"id": ident.id, "pseudonym": ident.pseudonym, "role": ident.role.wire}


def staff_account(a: StaffAccount) -> dict[str, Any]:
    return {"name": a.name, "role": a.role.wire}


# Acks whose shape is more than one field -----------------------------------------


def join_ack(result: JoinResult, reactions: dict[str, Reactions] | None = None) -> dict[str, Any]:
    """``reactions``: message id -> reactions as the joining member sees them (extension)."""
    given = reactions or {}
    return {
        "room": room(result.room, result.members_online, result.attended),
        "mute": None if result.mute is None else mute_state(result.mute.until, result.mute.reason),
        "you": member(result.you),
        "members": [member(m) for m in result.members],
        "history": [message(m, given.get(m.id)) for m in result.history],
    }


def mute_state(until: int | None, reason: str | None) -> dict[str, Any]:
    """The ``mute`` of a join ack; ``reason`` only when there is one (``returning``, ``new_identity``...)."""
    return {"until": until} if reason is None else {"until": until, "reason": reason}


# Server -> client events: each payload is built here and nowhere else ---------------


def waiting_channel(room_id: str, member_id: str) -> str:
    """The Socket.IO room of a member's sockets waiting to be admitted (rule 24), on any process."""
    return f"waiting:{room_id}:{member_id}"


def member_waiting(room_id: str, m: Member) -> dict[str, Any]:
    return {"room": room_id, "member": member(m)}


def room_admitted(room_id: str) -> dict[str, Any]:
    return {"room": room_id}


def member_warned(room_id: str, text: str, by: Member) -> dict[str, Any]:
    return {"room": room_id, "text": text, "by": member(by)}


def member_joined(room_id: str, m: Member) -> dict[str, Any]:
    return {"room": room_id, "member": member(m)}


def member_left(room_id: str, member_id: str, reason: LeaveReason) -> dict[str, Any]:
    return {"room": room_id, "member_id": member_id, "reason": reason.value}


def member_muted(room_id: str, member_id: str, until: int | None, reason: str | None) -> dict[str, Any]:
    return {"room": room_id, "member_id": member_id, "until": until, "reason": reason}


def member_unmuted(room_id: str, member_id: str) -> dict[str, Any]:
    return {"room": room_id, "member_id": member_id}


def room_removed(room_id: str, reason: str, banned_until: int | None) -> dict[str, Any]:
    return {"room": room_id, "reason": reason, "banned_until": banned_until}


def message_deleted(room_id: str, message_id: str) -> dict[str, Any]:
    return {"room": room_id, "message_id": message_id}


def member_typing(room_id: str, member_id: str) -> dict[str, Any]:
    return {"room": room_id, "member_id": member_id}


def message_reacted(room_id: str, message_id: str, counts: dict[str, int]) -> dict[str, Any]:
    return {"room": room_id, "message_id": message_id, "reactions": counts}


def react_ack(reactions: Reactions) -> dict[str, Any]:
    return {"reactions": reactions.counts, "reacted": reactions.mine}


def server_closing(retry_after_ms: int) -> dict[str, Any]:
    return {
        "code": "unavailable",
        "message": "The server is restarting; reconnect shortly.",
        "retry_after_ms": retry_after_ms,
    }


# Safety (docs/PROTOCOL.md rules 29 and 30): to staff, or to the one member concerned -----


def alert(a: Alert) -> dict[str, Any]:
    body: dict[str, Any] = {"id": a.id, "room": a.room, "kind": a.kind, "member": member(a.member), "ts": a.ts}
    if a.message_id is not None:
        body["message_id"] = a.message_id
    if a.text is not None:
        body["text"] = a.text
    if a.related_member is not None:
        body["related_member"] = a.related_member
    return body


def support_resources(room_id: str, resources: list[dict[str, str]]) -> dict[str, Any]:
    return {"room": room_id, "resources": resources}


def support_reply(r: Reply) -> dict[str, Any]:
    return {"room": r.room, "text": r.text, "by": member(r.by), "ts": r.ts}
