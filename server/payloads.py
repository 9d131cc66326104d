"""Every client → server payload, parsed once into a frozen, typed value.

Socket.IO events arrive already decoded (python-socketio parsed the JSON), so they go
through ``msgspec.convert``; HTTP bodies are raw bytes and go through
``msgspec.json.decode(raw, type=...)``. Why msgspec rather than dataclasses plus
hand-written checks: it validates types *and* constraints (lengths, ranges, patterns,
enums) declaratively on the struct, reports the exact field path of a failure, refuses
``true`` where a number is wanted and floats where a whole number is, skips unknown
fields without building them (or refuses them, per struct), and is fast enough to sit
on every event. Structs are frozen, so a parsed payload cannot change under a handler.

Only types and ranges live here; the domain still normalises text (``rooms.text``)
and decides everything else. The one place a ValidationError becomes ``Invalid`` is
``_invalid`` below.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, Literal, TypeVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from moderation.context import MAX_DURATION_S
from moderation.models import FlagStatus, ResolutionAction
from rooms import service as room_rules
from rooms.errors import Invalid
from rooms.expressions import Reaction
from rooms.models import Admission, RoomSettings, Unattended
from rooms.text import MAX_RAW_TEXT

# One room-id rule for every path. msgspec applies patterns with re.search, hence \A and \Z
# (``$`` would also match before a trailing newline, letting "ab\n" through).
ROOM_ID_PATTERN: Final = r"\A[a-z0-9][a-z0-9-]{1,39}\Z"
ROOM_ID_RE: Final = re.compile(ROOM_ID_PATTERN)
MAX_ID = 64

RoomId = Annotated[str, Meta(pattern=ROOM_ID_PATTERN)]
Id = Annotated[str, Meta(min_length=1, max_length=MAX_ID)]
ClientId = Annotated[str, Meta(max_length=MAX_ID)]
Duration = Annotated[int, Meta(ge=1, le=MAX_DURATION_S)]
# Generous upper bounds on raw text: the domain trims and counts code points after NFC.
Text = Annotated[str, Meta(max_length=MAX_RAW_TEXT)]

READ_ONLY_ROOM_FIELDS = frozenset({"guidelines_version", "attended", "members", "created_at"})
_FRIENDLY = {
    "room": "room must be a room id.",
    "id": "id must match ^[a-z0-9][a-z0-9-]{1,39}$.",
    "member": "member must be a member id.",
    "message_id": "message_id must be a message id.",
    "client_id": "client_id must be a string of at most 64 characters.",
    "action": "action must be dismiss, delete_message or ban.",
    "role": "role must be facilitator or admin.",
    "admission": "admission must be open or approval.",
    "unattended": "unattended must be open, slow or read_only.",
    "reaction": "reaction must be one of " + ", ".join(r.value for r in Reaction) + ".",
    "reply_to": "reply_to must be a message id.",
    "accept_guidelines": "accept_guidelines must be the version number of the guidelines read.",
}
# msgspec's " - at `$.field...`": the field is named on its own, and the whole suffix dropped from the message.
_WHERE = re.compile(r" - at `\$(?:\.([A-Za-z_][A-Za-z0-9_]*))?[^`]*`")
_NAMED = re.compile(r"(?:missing required|unknown) field `([^`]+)`")


class Payload(Struct, frozen=True, kw_only=True):
    """Base of every parsed payload: frozen, unknown fields ignored (forward compatible)."""


# Socket.IO events (docs/PROTOCOL.md "Events") ---------------------------------


class RoomRef(Payload, frozen=True):
    room: RoomId


class Join(RoomRef, frozen=True):
    accept_guidelines: Annotated[int, Meta(ge=0)] | None = None  # the guidelines version read (rule 23)


class Send(RoomRef, frozen=True):
    text: Text
    client_id: ClientId | None = None
    reply_to: Id | None = None


class Typing(RoomRef, frozen=True):
    pass


class React(RoomRef, frozen=True):
    message_id: Id
    reaction: Reaction
    on: bool = True


class DeleteOwn(RoomRef, frozen=True):
    message_id: Id


class FlagMessage(RoomRef, frozen=True):
    message_id: Id
    reason: Text


class Mute(RoomRef, frozen=True):
    member: Id
    duration_s: Duration | None = None
    reason: Text | None = None


class Unmute(RoomRef, frozen=True):
    member: Id


class Remove(RoomRef, frozen=True):
    member: Id
    ban_s: Duration | None = None
    reason: Text | None = None


class Admit(RoomRef, frozen=True):
    member: Id


class Deny(RoomRef, frozen=True):
    member: Id
    reason: Text | None = None


class Warn(RoomRef, frozen=True):
    member: Id
    text: Text


class Delete(RoomRef, frozen=True):
    message_id: Id
    reason: Text | None = None


class SupportRequest(RoomRef, frozen=True):
    text: Text | None = None


class SupportReply(RoomRef, frozen=True):
    member: Id
    text: Text


# HTTP bodies ---------------------------------------------------------------------


class Session(Payload, frozen=True):
    pseudonym: Text | None = None


class Login(Payload, frozen=True):
    name: Annotated[str, Meta(max_length=MAX_ID)]
    password: Annotated[str, Meta(max_length=256)]


class RoomBody(Payload, frozen=True, forbid_unknown_fields=True):
    """POST and PATCH /api/rooms: unknown (and read-only) fields are refused by name."""

    name: Text | UnsetType = UNSET
    topic: Text | None | UnsetType = UNSET
    message_ttl_s: Annotated[int, Meta(ge=room_rules.MIN_TTL_S, le=room_rules.MAX_TTL_S)] | UnsetType = UNSET
    slow_mode_s: Annotated[int, Meta(ge=0, le=room_rules.MAX_SLOW_MODE_S)] | UnsetType = UNSET
    capacity: Annotated[int, Meta(ge=1, le=room_rules.MAX_CAPACITY)] | None | UnsetType = UNSET
    locked: bool | UnsetType = UNSET
    guidelines: Text | None | UnsetType = UNSET
    min_identity_age_s: Annotated[int, Meta(ge=0, le=room_rules.MAX_IDENTITY_AGE_S)] | UnsetType = UNSET
    admission: Admission | UnsetType = UNSET
    unattended: Unattended | UnsetType = UNSET


class RoomCreate(RoomBody, frozen=True, forbid_unknown_fields=True):
    id: RoomId | None = None


class Resolve(Payload, frozen=True):
    action: ResolutionAction
    note: Text | None = None
    ban_s: Duration | None = None


class StaffAdd(Payload, frozen=True):
    name: Annotated[str, Meta(max_length=MAX_ID)]
    role: Literal["facilitator", "admin"]
    password: Annotated[str, Meta(max_length=256)]


class StaffPassword(Payload, frozen=True, forbid_unknown_fields=True):
    """PATCH /api/admin/staff/{name}: a new password; earlier tokens of that account stop working."""

    password: Annotated[str, Meta(max_length=256)]


# Parsing ---------------------------------------------------------------------------

P = TypeVar("P", bound=Payload)


def _invalid(exc: msgspec.ValidationError | msgspec.DecodeError) -> Invalid:
    """The one translation of a msgspec failure into ``invalid`` with the offending field."""
    text = str(exc)
    named = _NAMED.search(text)
    at = _WHERE.search(text)
    field = named.group(1) if named else (at.group(1) if at else None)
    if field in READ_ONLY_ROOM_FIELDS and "unknown field" in text:
        return Invalid(f"{field} is read-only.", field=field)
    if "unknown field" in text:
        return Invalid(f"Unknown field {field!r}.", field=field)
    if field in _FRIENDLY and "missing" not in text:
        return Invalid(_FRIENDLY[field], field=field)
    detail = _WHERE.sub("", text).rstrip(".")
    return Invalid(f"{field}: {detail}." if field else f"{detail}.", field=field)


def event(kind: type[P], data: object) -> P:
    """A Socket.IO event payload (already JSON-decoded) as ``kind``."""
    if not isinstance(data, dict):
        raise Invalid("The payload must be a JSON object.")
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError as exc:
        raise _invalid(exc) from None


def body(kind: type[P], raw: bytes, *, optional: bool = False) -> P:
    """An HTTP request body as ``kind``; an empty body is ``{}`` when ``optional``."""
    if not raw.strip():
        if optional:
            raw = b"{}"
        else:
            raise Invalid("A JSON body is required.")
    if not raw.lstrip().startswith(b"{"):
        raise Invalid("The body must be a JSON object.")
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError as exc:
        raise _invalid(exc) from None
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        raise Invalid("The body is not valid JSON.") from None


def room_settings(parsed: RoomBody) -> RoomSettings:
    """The domain's view of a room body: fields not sent stay ``KEEP``."""
    given: dict[str, Any] = {
        name: value for name, value in msgspec.structs.asdict(parsed).items() if value is not UNSET
    }
    return RoomSettings(**given)


def flag_status(raw: str | None) -> FlagStatus | None:
    """``?status=`` of GET /api/admin/flags."""
    if raw in (None, ""):
        return None
    try:
        return FlagStatus(raw)
    except ValueError:
        raise Invalid("status must be open, dismissed or actioned.", field="status") from None


def audit_limit(raw: str | None, *, default: int, most: int) -> int:
    """``?limit=`` of GET /api/admin/audit."""
    if raw in (None, ""):
        return default
    if not raw.isascii() or not raw.strip().lstrip("+-").isdigit():
        raise Invalid("limit must be a whole number.", field="limit")
    count = int(raw)
    if not 1 <= count <= most:
        raise Invalid(f"limit must be from 1 to {most}.", field="limit")
    return count
