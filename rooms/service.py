"""Room use cases: settings, joining and leaving, sending, history and message lookups."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, replace
from typing import Protocol

from rooms.clock import Clock
from rooms.errors import Invalid, NotFound, RateLimited, RoomLocked, SlowMode, Waiting
from rooms.limits import TokenBucket
from rooms.member_ids import MemberIds
from rooms.models import Identity, Member, MemberRecord, Message, Room
from rooms.names import RoomNames, numbered
from rooms.presence import Presence
from rooms.store import RoomStore
from rooms.text import clean_text
from rooms.vault import MessageVault

HISTORY_LIMIT = 200
DEFAULT_TTL_S = 86400
MIN_TTL_S, MAX_TTL_S = 60, 2_592_000
MAX_SLOW_MODE_S = 3600
MAX_CAPACITY = 100_000
ROOM_CACHE_MS = 5000  # a safety net only: changes are announced to every process at once
ROOM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


class Guards(Protocol):
    """Checks owned by moderation (bans, admission, mutes) that rooms must ask before acting."""

    async def check_join(
        self, room: Room, member_id: str, *, identity: Identity | None = None, address: str | None = None
    ) -> None: ...

    async def after_join(self, room: Room, member: Member, *, address: str | None) -> str | None:
        """Returns the id of a sanctioned member this newcomer is returning as, if any."""

    async def check_send(self, room: Room, member_id: str, *, identity: Identity | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class JoinResult:
    room: Room
    members_online: int
    you: Member
    members: list[Member]
    history: list[Message]
    first_socket: bool
    returning_from: str | None = None  # rule 26: the sanctioned member this one appears to be


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:40].strip("-")
    if len(slug) < 2:
        slug = f"room-{secrets.token_hex(3)}"
    return slug


def _int_field(data: dict[str, object], name: str, low: int, high: int) -> int:
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{name} must be a whole number.", field=name)
    if not low <= value <= high:
        raise Invalid(f"{name} must be from {low} to {high}.", field=name)
    return value


def room_settings(data: dict[str, object], *, creating: bool) -> dict[str, object]:
    """Validate the settable fields of a room; unknown keys are refused by name."""
    allowed = {"name", "topic", "message_ttl_s", "slow_mode_s", "capacity", "locked"} | ({"id"} if creating else set())
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise Invalid(f"Unknown field {unknown[0]!r}.", field=unknown[0])
    out: dict[str, object] = {}
    if "name" in data or creating:
        out["name"] = clean_text(data.get("name"), field="name", max_len=80)
    if "topic" in data:
        out["topic"] = "" if data["topic"] in (None, "") else clean_text(data["topic"], field="topic", max_len=500)
    if "message_ttl_s" in data:
        out["message_ttl_s"] = _int_field(data, "message_ttl_s", MIN_TTL_S, MAX_TTL_S)
    if "slow_mode_s" in data:
        out["slow_mode_s"] = _int_field(data, "slow_mode_s", 0, MAX_SLOW_MODE_S)
    if "capacity" in data:
        out["capacity"] = None if data["capacity"] is None else _int_field(data, "capacity", 1, MAX_CAPACITY)
    if "locked" in data:
        if not isinstance(data["locked"], bool):
            raise Invalid("locked must be true or false.", field="locked")
        out["locked"] = data["locked"]
    if creating and data.get("id") is not None:
        room_id = data["id"]
        if not isinstance(room_id, str) or not ROOM_ID.match(room_id):
            raise Invalid("id must match ^[a-z0-9][a-z0-9-]{1,39}$.", field="id")
        out["id"] = room_id
    return out


class RoomService:
    def __init__(
        self,
        *,
        store: RoomStore,
        presence: Presence,
        vault: MessageVault,
        member_ids: MemberIds,
        clock: Clock,
        guards: Guards,
        limiter: TokenBucket,
        names: RoomNames | None = None,
    ) -> None:
        self.names = names
        self.store = store
        self.presence = presence
        self.vault = vault
        self.member_ids = member_ids
        self.clock = clock
        self.guards = guards
        self.limiter = limiter
        self._seq_ms = 0
        self._seq = 0
        # Room settings are read on every send; keep them briefly. Changes made on this process
        # drop the entry at once, other processes hear of them through forget_room().
        self._room_cache: dict[str, tuple[Room, int]] = {}

    # rooms ---------------------------------------------------------------

    async def get_room(self, room_id: object) -> Room:
        if not isinstance(room_id, str) or not room_id:
            raise Invalid("room must be a room id.", field="room")
        now = self.clock.now_ms()
        cached = self._room_cache.get(room_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        room = await self.store.get_room(room_id)
        if room is None:
            self._room_cache.pop(room_id, None)
            raise NotFound(f"No room with id {room_id[:64]!r}.")
        self._room_cache[room_id] = (room, now + ROOM_CACHE_MS)
        return room

    def forget_room(self, room_id: str) -> None:
        """Another process changed or deleted this room: read it afresh next time."""
        self._room_cache.pop(room_id, None)

    async def online_count(self, room_id: str) -> int:
        return (await self.presence.counts([room_id]))[room_id]

    async def list_rooms(self) -> list[tuple[Room, int]]:
        rooms = await self.store.list_rooms()
        counts = await self.presence.counts([r.id for r in rooms])
        return [(r, counts[r.id]) for r in rooms]

    async def create_room(self, data: dict[str, object]) -> Room:
        fields = room_settings(data, creating=True)
        room_id = str(fields.pop("id", None) or slugify(str(fields["name"])))
        fields.pop("locked", None)  # a new room starts unlocked
        room = Room(id=room_id, created_at=self.clock.now_ms(), **fields)  # type: ignore[arg-type]
        await self.store.create_room(room)
        return room

    async def update_room(self, room_id: str, data: dict[str, object]) -> Room:
        room = await self.get_room(room_id)
        fields = room_settings(data, creating=False)
        updated = replace(room, **fields)  # type: ignore[arg-type]
        await self.store.update_room(updated)
        self.forget_room(room_id)
        return updated

    async def delete_room(self, room_id: str) -> Room:
        room = await self.get_room(room_id)
        await self.store.delete_room(room_id)
        self.forget_room(room_id)
        await self.presence.drop_room(room_id)
        self.vault.forget_room(room_id)
        return room

    # membership ----------------------------------------------------------

    def member_for(self, identity: Identity, room_id: str) -> Member:
        return Member(self.member_ids.member_id(room_id, identity.id), identity.pseudonym, identity.role)

    async def join(self, identity: Identity, room_id: object, sid: str, *, address: str | None = None) -> JoinResult:
        """Join a room; ``address`` is the socket's client address, opaque here (only ever hashed)."""
        room = await self.get_room(room_id)
        you = self.member_for(identity, room.id)
        if not identity.is_staff:
            try:
                await self.guards.check_join(room, you.id, identity=identity, address=address)
            except Waiting:
                # Recorded, so that staff can admit or deny a member who has never been in.
                await self.store.record_member(MemberRecord(room.id, you.id, identity.role, None))
                raise
            if room.locked:
                raise RoomLocked()
        candidates = [] if self.names is None else self.names.candidates(room.id, identity.pseudonym)
        first, number = await self.presence.join_named(room.id, you, sid, capacity=room.capacity, names=candidates)
        you = Member(you.id, numbered(identity.pseudonym, number), you.role)
        if first:
            await self.store.record_member(
                MemberRecord(room.id, you.id, identity.role, identity.pseudonym if identity.is_staff else None)
            )
        returning_from = None
        if first and not identity.is_staff:
            returning_from = await self.guards.after_join(room, you, address=address)
        members = await self.presence.members(room.id)
        history = await self.history(room.id)
        return JoinResult(room, len(members), you, members, history, first, returning_from)

    async def leave(self, room_id: str, member_id: str, sid: str) -> bool:
        return await self.presence.leave(room_id, member_id, sid)

    async def history(self, room_id: str) -> list[Message]:
        sealed = await self.store.history(room_id, now_ms=self.clock.now_ms(), limit=HISTORY_LIMIT)
        opened = [await self.vault.open(s) for s in sealed]
        return [m for m in opened if m is not None]

    # messages ------------------------------------------------------------

    async def send(
        self, identity: Identity, room: Room, text: object, client_id: object, *, shown: Member | None = None
    ) -> Message:
        """Send as ``identity``; ``shown`` is the member as the room sees them (with their number)."""
        clean = clean_text(text)
        if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 64):
            raise Invalid("client_id must be a string of at most 64 characters.", field="client_id")
        author = self.member_for(identity, room.id)
        if shown is not None and shown.id == author.id:
            author = shown
        bucket = (room.id, author.id)
        if not identity.is_staff:
            await self.guards.check_send(room, author.id, identity=identity)
            if room.locked:
                raise RoomLocked()
            wait = self.limiter.check(bucket)
            if wait:
                raise RateLimited(wait)
        now = self.clock.now_ms()
        if not identity.is_staff and room.slow_mode_s > 0:
            wait = await self.store.take_slow_mode(room.id, author.id, now_ms=now, window_ms=room.slow_mode_s * 1000)
            if wait:
                raise SlowMode(wait)
        msg = Message(
            id=self._next_id(now),
            room=room.id,
            author=author,
            text=clean,
            ts=now,
            expires_at=now + room.message_ttl_s * 1000,
            client_id=client_id,
        )
        await self.store.add_message(await self.vault.seal(msg))
        if not identity.is_staff:
            self.limiter.spend(bucket)
        return msg

    def _next_id(self, now: int) -> str:
        # Time first, then a per-process sequence, so ids sort in send order even within one millisecond.
        self._seq = self._seq + 1 if now == self._seq_ms else 0
        self._seq_ms = now
        return f"{now:011x}{self._seq:04x}{secrets.token_hex(4)}"

    async def find_message(self, room_id: str, message_id: object) -> Message:
        if not isinstance(message_id, str) or not message_id or len(message_id) > 64:
            raise Invalid("message_id must be a message id.", field="message_id")
        sealed = await self.store.get_message(room_id, message_id, now_ms=self.clock.now_ms())
        msg = None if sealed is None else await self.vault.open(sealed)
        if msg is None:
            raise NotFound("No such message (it may have expired or been deleted).")
        return msg

    async def context_before(self, msg: Message, limit: int) -> list[Message]:
        sealed_msg = await self.store.get_message(msg.room, msg.id, now_ms=self.clock.now_ms())
        if sealed_msg is None:
            return []
        sealed = await self.store.messages_before(msg.room, sealed_msg, now_ms=self.clock.now_ms(), limit=limit)
        opened = [await self.vault.open(s) for s in sealed]
        return [m for m in opened if m is not None]

    async def delete_message(self, room_id: str, message_id: str) -> bool:
        return await self.store.delete_message(room_id, message_id)

    async def member_record(self, room_id: str, member_id: object) -> MemberRecord:
        if not isinstance(member_id, str) or not member_id or len(member_id) > 64:
            raise Invalid("member must be a member id.", field="member")
        record = await self.store.get_member(room_id, member_id)
        if record is None:
            raise NotFound("No such member in this room.")
        return record

    async def purge(self) -> tuple[int, int]:
        now = self.clock.now_ms()
        counts = await self.store.purge(now_ms=now)
        self.vault.prune(now)
        self.limiter.prune()
        return counts
