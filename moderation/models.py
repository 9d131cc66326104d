"""Plain data of moderation: mutes, bans, flags, audit entries and staff accounts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rooms.models import Role


class FlagStatus(StrEnum):
    """A flag's state; the stores keep these values (SQL and Lua compare against them)."""

    OPEN = "open"
    DISMISSED = "dismissed"
    ACTIONED = "actioned"


class ResolutionAction(StrEnum):
    """What a reviewer did with a flag."""

    DISMISS = "dismiss"
    DELETE_MESSAGE = "delete_message"
    BAN = "ban"

    @property
    def status(self) -> FlagStatus:
        return FlagStatus.DISMISSED if self is ResolutionAction.DISMISS else FlagStatus.ACTIONED


class AuditAction(StrEnum):
    """Every action the audit log records."""

    MUTE = "mute"
    UNMUTE = "unmute"
    REMOVE = "remove"
    DELETE = "delete"
    ROOM_CREATE = "room.create"
    ROOM_UPDATE = "room.update"
    ROOM_DELETE = "room.delete"
    FLAG_DISMISS = "flag.dismiss"
    FLAG_DELETE_MESSAGE = "flag.delete_message"
    FLAG_BAN = "flag.ban"
    STAFF_ADD = "staff.add"
    STAFF_REMOVE = "staff.remove"
    WARN = "warn"  # rule 28: never the warning's text
    ADMIT = "admit"
    DENY = "deny"

    @classmethod
    def for_resolution(cls, action: ResolutionAction) -> AuditAction:
        return cls("flag." + action.value)


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
    action: ResolutionAction
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
    status: FlagStatus
    resolution: Resolution | None
    snapshot: bytes | None  # sealed; None once destroyed after retention
    snapshot_key: bytes | None  # wrapped data key; None once destroyed
    purge_after: int | None = None  # when the snapshot is destroyed (set on resolve)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    ts: int
    actor: str
    action: str  # an AuditAction value (kept as stored)
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
