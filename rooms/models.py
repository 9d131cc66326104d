"""Plain data of the rooms domain: roles, identities, rooms, members and messages."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum, StrEnum


class Role(IntEnum):
    """Ordered levels, so "may X act on Y" is one comparison."""

    PEER = 0
    FACILITATOR = 1
    ADMIN = 2

    @property
    def wire(self) -> str:
        return self.name.lower()

    @property
    def is_staff(self) -> bool:
        return self >= Role.FACILITATOR

    @classmethod
    def from_wire(cls, value: str) -> Role:
        return cls[value.upper()]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who holds a token: a pseudonymous peer or a staff account."""

    id: str
    pseudonym: str
    role: Role
    staff_id: str | None = None  # the account's id, so a deleted account's tokens die with it
    issued_at_ms: int = 0  # when the token was issued: a peer younger than a room's minimum age cannot send

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff


class Admission(StrEnum):
    """Who may join a room (docs/PROTOCOL.md "Version 1.1")."""

    OPEN = "open"
    APPROVAL = "approval"


class Unattended(StrEnum):
    """What a room does while no staff member is in it."""

    OPEN = "open"
    SLOW = "slow"
    READ_ONLY = "read_only"


class LeaveReason(StrEnum):
    """Why a member left a room, as ``member:left`` tells the others."""

    LEFT = "left"
    DISCONNECTED = "disconnected"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Room:
    id: str
    name: str
    topic: str = ""
    message_ttl_s: int = 86400
    slow_mode_s: int = 0
    locked: bool = False
    capacity: int | None = None
    created_at: int = 0
    guidelines: str = ""
    guidelines_version: int = 0
    min_identity_age_s: int = 0
    admission: Admission = Admission.OPEN
    unattended: Unattended = Unattended.OPEN


@dataclass(frozen=True, slots=True)
class Member:
    """A person as seen inside one room: the id is per room."""

    id: str
    pseudonym: str
    role: Role


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """What the store keeps of anyone who ever joined a room (no pseudonym)."""

    room_id: str
    member_id: str
    role: Role
    staff_name: str | None = None


@dataclass(frozen=True, slots=True)
class MuteState:
    """A mute in force, as the rooms domain sees it (moderation owns mutes)."""

    until: int | None  # None: until unmuted
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    room: str
    author: Member
    text: str
    ts: int
    expires_at: int
    client_id: str | None = None
    reply_to: str | None = None  # id of the message this one answers (in the same room)


@dataclass(frozen=True, slots=True)
class SealedMessage:
    """A message as stored: only ids and times are readable, the rest is sealed."""

    room: str
    id: str
    ts: int
    expires_at: int
    epoch: int
    blob: bytes


@dataclass(frozen=True, slots=True)
class RoomKey:
    """A wrapped data key for one room and time epoch."""

    room: str
    epoch: int
    wrapped: bytes
    destroy_after: int


class _Keep(Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP  # a RoomSettings field left as it is


@dataclass(frozen=True, slots=True)
class RoomSettings:
    """Room fields as staff set them (types and ranges already checked at the edge).

    ``KEEP`` leaves a field unchanged; ``topic`` None clears it, ``capacity`` None lifts the cap.
    """

    id: str | None = None  # creating only
    name: str | _Keep = KEEP
    topic: str | None | _Keep = KEEP
    message_ttl_s: int | _Keep = KEEP
    slow_mode_s: int | _Keep = KEEP
    capacity: int | None | _Keep = KEEP
    locked: bool | _Keep = KEEP
    guidelines: str | None | _Keep = KEEP
    min_identity_age_s: int | _Keep = KEEP
    admission: Admission | _Keep = KEEP
    unattended: Unattended | _Keep = KEEP

    def given(self) -> list[str]:
        """The names of the fields that were set, sorted (for the audit log)."""
        return sorted(n for n in self.__slots__ if n != "id" and getattr(self, n) is not KEEP)
