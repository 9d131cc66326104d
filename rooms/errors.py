"""Errors a client may see, one class per docs/PROTOCOL.md error code.

HearthError
 ├── Invalid          invalid        bad payload (carries ``field``)
 ├── Unauthorized     unauthorized   no, forged, expired or revoked token
 ├── Forbidden        forbidden      the role lacks the right
 ├── NotFound         not_found
 ├── NotMember        not_member     the socket has not joined the room
 ├── Muted            muted          carries ``until`` (None: until unmuted), ``reason`` if any
 ├── Waiting          waiting        admission by approval: not admitted yet (rule 24)
 ├── Banned           banned         carries ``until``
 ├── RateLimited      rate_limited   carries ``retry_after_ms``
 ├── SlowMode         slow_mode      carries ``retry_after_ms``
 ├── RoomLocked       room_locked
 ├── RoomFull         room_full
 ├── Conflict         conflict
 ├── Unavailable      unavailable    a backing store is down
 └── (HearthError)    internal
"""

from __future__ import annotations


class HearthError(Exception):
    """Base class: ``code`` is the wire code, ``message`` is safe to show a user.

    Subclasses keep their extra fields as typed attributes; ``details`` lists the ones sent.
    """

    code = "internal"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message  # never contains message text or pseudonyms

    @property
    def details(self) -> dict[str, object]:
        """Extra fields for the ack or HTTP error body, e.g. ``until``, ``retry_after_ms``."""
        return {}

    def to_wire(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, **self.details}


class Invalid(HearthError):
    code = "invalid"
    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    @property
    def details(self) -> dict[str, object]:
        return {} if self.field is None else {"field": self.field}


class Unauthorized(HearthError):
    code = "unauthorized"
    status = 401


class Forbidden(HearthError):
    code = "forbidden"
    status = 403


class NotFound(HearthError):
    code = "not_found"
    status = 404


class NotMember(HearthError):
    code = "not_member"
    status = 403

    def __init__(self, room_id: str) -> None:
        super().__init__(f"You have not joined room {room_id!r}.")
        self.room = room_id

    @property
    def details(self) -> dict[str, object]:
        return {"room": self.room}


class Muted(HearthError):
    code = "muted"
    status = 403

    def __init__(self, until: int | None, reason: str | None = None) -> None:
        super().__init__("You are muted in this room.")
        self.until = until
        self.reason = reason

    @property
    def details(self) -> dict[str, object]:
        out: dict[str, object] = {"until": self.until}
        if self.reason is not None:
            out["reason"] = self.reason
        return out


class Waiting(HearthError):
    """Rule 24: a peer in a room with admission by approval, not admitted yet."""

    code = "waiting"
    status = 403

    def __init__(self) -> None:
        super().__init__("A facilitator will let you in shortly; please wait.")


class Banned(HearthError):
    code = "banned"
    status = 403

    def __init__(self, until: int | None) -> None:
        super().__init__("You are banned from this room.")
        self.until = until

    @property
    def details(self) -> dict[str, object]:
        return {"until": self.until}


class RateLimited(HearthError):
    code = "rate_limited"
    status = 429

    def __init__(self, retry_after_ms: int, message: str = "Too many requests; slow down.") -> None:
        super().__init__(message)
        self.retry_after_ms = max(1, int(retry_after_ms))

    @property
    def details(self) -> dict[str, object]:
        return {"retry_after_ms": self.retry_after_ms}


class SlowMode(HearthError):
    code = "slow_mode"
    status = 429

    def __init__(self, retry_after_ms: int) -> None:
        super().__init__("This room is in slow mode.")
        self.retry_after_ms = max(1, int(retry_after_ms))

    @property
    def details(self) -> dict[str, object]:
        return {"retry_after_ms": self.retry_after_ms}


class RoomLocked(HearthError):
    code = "room_locked"
    status = 403

    def __init__(self) -> None:
        super().__init__("This room is locked.")


class RoomFull(HearthError):
    code = "room_full"
    status = 403

    def __init__(self) -> None:
        super().__init__("This room is full.")


class Conflict(HearthError):
    code = "conflict"
    status = 409


class Unavailable(HearthError):
    code = "unavailable"
    status = 503

    def __init__(self, message: str = "A backing store is unavailable; retry later.") -> None:
        super().__init__(message)
