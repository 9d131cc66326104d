"""Plain data of moderation: mutes, bans, flags, audit entries and staff accounts."""

from __future__ import annotations

from dataclasses import dataclass

from rooms.models import Role


@dataclass(frozen=True, slots=True)
class Mute:
    room: str
    member_id: str
    until: int | None  # None: until unmuted
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Ban:
    room: str
    member_id: str
    until: int | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    action: str  # dismiss | delete_message | ban
    by: str
    at: int
    note: str | None = None


@dataclass(frozen=True, slots=True)
class StoredFlag:
    """A flag as stored: the message snapshot is sealed under a key of its own."""

    id: str
    room: str
    message_id: str | None  # None: a help request, about no message
    author_id: str | None
    reporter: str | None  # None: raised by the server (a crisis signal)
    reason: str
    created_at: int
    status: str  # open | dismissed | actioned
    resolution: Resolution | None
    snapshot: bytes | None  # sealed; None once destroyed after retention
    snapshot_key: bytes | None  # wrapped data key; None once destroyed
    purge_after: int | None = None  # when the snapshot is destroyed (set on resolve)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    ts: int
    actor: str
    action: str
    room: str | None
    target: str | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class StaffAccount:
    id: str
    name: str
    role: Role
    password_hash: str
    created_at: int
