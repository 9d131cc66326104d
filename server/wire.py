"""JSON shapes of the wire objects (docs/PROTOCOL.md "Objects") and payload parsing."""

from __future__ import annotations

from typing import Any

from moderation.flag import Flag
from moderation.models import AuditEntry, Resolution
from rooms.errors import Invalid
from rooms.models import Member, Message, Room


def channel(room_id: str) -> str:
    """The Socket.IO room that carries one Hearth room's broadcasts."""
    return "r:" + room_id


def staff_channel(room_id: str) -> str:
    """Staff sockets that joined a room: flag:new goes there (precise rule 14)."""
    return "s:" + room_id


ADMINS = "admins"


def room(r: Room, members: int) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": r.name,
        "topic": r.topic,
        "message_ttl_s": r.message_ttl_s,
        "slow_mode_s": r.slow_mode_s,
        "locked": r.locked,
        "capacity": r.capacity,
        "members": members,
    }


def member(m: Member) -> dict[str, Any]:
    return {"id": m.id, "pseudonym": m.pseudonym, "role": m.role.wire}


def message(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "room": m.room,
        "author": member(m.author),
        "text": m.text,
        "ts": m.ts,
        "expires_at": m.expires_at,
        "client_id": m.client_id,
    }


def resolution(r: Resolution | None) -> dict[str, Any] | None:
    return None if r is None else {"action": r.action, "by": r.by, "at": r.at, "note": r.note}


def flag(f: Flag) -> dict[str, Any]:
    return {
        "id": f.id,
        "room": f.room,
        "message": None if f.message is None else message(f.message),
        "context": [message(m) for m in f.context],
        "reason": f.reason,
        "reporter": f.reporter,
        "author": f.author_id,
        "created_at": f.created_at,
        "status": f.status,
        "resolution": resolution(f.resolution),
    }


def audit_entry(e: AuditEntry) -> dict[str, Any]:
    return {"ts": e.ts, "actor": e.actor, "action": e.action, "room": e.room, "target": e.target, "reason": e.reason}


def payload(data: object) -> dict[str, Any]:
    """An event payload must be one JSON object."""
    if not isinstance(data, dict):
        raise Invalid("The payload must be a JSON object.")
    return data


def room_id(data: dict[str, Any]) -> str:
    value = data.get("room")
    if not isinstance(value, str) or not value or len(value) > 64:
        raise Invalid("room must be a room id.", field="room")
    return value
