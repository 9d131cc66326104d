"""Alerts: what staff are told privately about a member (a crisis signal, a help request, a return)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from rooms.clock import Clock
from rooms.models import Member

KINDS = ("crisis", "request", "returning")


@dataclass(frozen=True, slots=True)
class Alert:
    """Sent live to staff in the room and every connected admin; never stored, never shown to members."""

    id: str
    room: str
    kind: str  # crisis | request | returning
    member: Member
    ts: int
    message_id: str | None = None
    text: str | None = None
    related_member: str | None = None


def new_alert(
    clock: Clock,
    room_id: str,
    kind: str,
    member: Member,
    *,
    message_id: str | None = None,
    text: str | None = None,
    related_member: str | None = None,
) -> Alert:
    if kind not in KINDS:
        raise ValueError(f"unknown alert kind {kind!r}")
    return Alert("a_" + secrets.token_hex(8), room_id, kind, member, clock.now_ms(), message_id, text, related_member)
