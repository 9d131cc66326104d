"""Plain data of the rooms domain: roles, identities, rooms, members and messages."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


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
class Message:
    id: str
    room: str
    author: Member
    text: str
    ts: int
    expires_at: int
    client_id: str | None = None


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
