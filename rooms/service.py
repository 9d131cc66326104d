"""Room use cases: settings, joining and leaving, sending, history and message lookups."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Protocol

from rooms.clock import Clock
from rooms.errors import HearthError, Invalid, NotFound, RateLimited, RoomLocked, SlowMode, Waiting
from rooms.limits import TokenBucket
from rooms.member_ids import MemberIds
from rooms.models import KEEP, Identity, Member, MemberRecord, Message, MuteState, Room, RoomSettings, SealedMessage
from rooms.names import RoomNames, numbered
from rooms.presence import Presence
from rooms.store import RoomStore
from rooms.text import MAX_GUIDELINES, clean_text
from rooms.vault import MessageVault

HISTORY_LIMIT = 200
DEFAULT_TTL_S = 86400
MIN_TTL_S, MAX_TTL_S = 60, 2_592_000
MAX_SLOW_MODE_S = 3600
MAX_CAPACITY = 100_000
# room:join per identity (peers): a burst of JOIN_BURST, then one join every JOIN_REFILL_MS.
JOIN_BURST, JOIN_REFILL_MS = 20, 1000
# History sent on join per identity (peers), in KiB of sealed messages: 8 MiB at once, 256 KiB/s after.
HISTORY_BURST_KIB, HISTORY_KIB_PER_S = 8192, 256
ROOM_CACHE_MS = 5000  # a safety net only: changes are announced to every process at once
MAX_IDENTITY_AGE_S = 604_800
MAX_NAME, MAX_TOPIC = 80, 500


class Guards(Protocol):
    """Checks owned by moderation (bans, admission, mutes) that rooms must ask before acting."""

    async def check_join(
        self, room: Room, member_id: str, *, identity: Identity | None = None, address: str | None = None
    ) -> None: ...

    async def after_join(self, room: Room, member: Member, *, address: str | None) -> str | None:
        """Returns the id of a sanctioned member this newcomer is returning as, if any."""

    async def check_send(self, room: Room, member_id: str, *, identity: Identity | None = None) -> None: ...
    async def current_mute(self, room_id: str, member_id: str) -> MuteState | None: ...


@dataclass(frozen=True, slots=True)
class JoinResult:
    room: Room
    you: Member
    members: list[Member]
    history: list[Message]
    announce: bool  # tell the room: this member's first socket here, and not a repeated join
    mute: MuteState | None
    returning_from: str | None = None  # rule 26: the sanctioned member this one appears to be

    @property
    def members_online(self) -> int:
        return len(self.members)

    @property
    def attended(self) -> bool:
        return attended(self.members)


def attended(members: list[Member]) -> bool:
    """A room is attended while at least one staff member is online in it."""
    return any(m.role.is_staff for m in members)


@dataclass(frozen=True, slots=True)
class RoomStatus:
    """What presence says of a room right now."""

    online: int
    attended: bool


def sent_key(author_id: str, client_id: str) -> str:
    """What makes a send idempotent: the author and their client id, hashed to a fixed-size key."""
    return hashlib.sha256(f"{author_id}\x00{client_id}".encode()).hexdigest()[:32]


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:40].strip("-")
    if len(slug) < 2:
        slug = f"room-{secrets.token_hex(3)}"
    return slug


def _text_or_empty(value: str | None, field: str, max_len: int) -> str:
    return "" if not value else clean_text(value, field=field, max_len=max_len)


def apply_settings(room: Room, settings: RoomSettings) -> Room:
    """A room with the given settings applied; text is normalised here, ranges were checked at the edge.

    ``guidelines_version`` grows by one whenever the guidelines change.
    """
    changes: dict[str, object] = {}
    if settings.name is not KEEP:
        changes["name"] = clean_text(settings.name, field="name", max_len=MAX_NAME)
    if settings.topic is not KEEP:
        changes["topic"] = _text_or_empty(settings.topic, "topic", MAX_TOPIC)
    for name in ("message_ttl_s", "slow_mode_s", "capacity", "locked", "min_identity_age_s", "admission", "unattended"):
        value = getattr(settings, name)
        if value is not KEEP:
            changes[name] = value
    if settings.guidelines is not KEEP:
        guidelines = _text_or_empty(settings.guidelines, "guidelines", MAX_GUIDELINES)
        if guidelines != room.guidelines:
            changes["guidelines"] = guidelines
            changes["guidelines_version"] = room.guidelines_version + 1
    return replace(room, **changes)  # type: ignore[arg-type]


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
        join_limiter: TokenBucket | None = None,
        names: RoomNames | None = None,
        history_limiter: TokenBucket | None = None,
    ) -> None:
        self.store = store
        self.presence = presence
        self.vault = vault
        self.member_ids = member_ids
        self.clock = clock
        self.guards = guards
        self.limiter = limiter
        self.names = names
        self.join_limiter = join_limiter or TokenBucket(clock, burst=JOIN_BURST, refill_ms=JOIN_REFILL_MS)
        self.history_limiter = history_limiter or TokenBucket(
            clock, burst=HISTORY_BURST_KIB, refill_ms=1000 / HISTORY_KIB_PER_S
        )
        self._seq_ms = 0
        self._seq = 0
        # Room settings are read on every send; keep them briefly. Changes made on this process
        # drop the entry at once, other processes hear of them through forget_room().
        self._room_cache: dict[str, tuple[Room, int]] = {}

    # rooms ---------------------------------------------------------------

    async def get_room(self, room_id: str) -> Room:
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

    async def room_exists(self, room_id: str) -> bool:
        return await self.store.get_room(room_id) is not None

    async def status(self, room_id: str) -> RoomStatus:
        members = await self.presence.members(room_id)
        return RoomStatus(len(members), attended(members))

    async def list_rooms(self) -> list[tuple[Room, RoomStatus]]:
        rooms = await self.store.list_rooms()
        return [(r, await self.status(r.id)) for r in rooms]

    async def create_room(self, settings: RoomSettings) -> Room:
        if settings.name is KEEP:
            raise Invalid("name is required.", field="name")
        # A new room starts unlocked; its guidelines, if any, are version 1.
        draft = apply_settings(Room(id="", name=""), replace(settings, locked=KEEP))
        room_id = settings.id or slugify(draft.name)
        room = replace(draft, id=room_id, created_at=self.clock.now_ms())
        await self.store.create_room(room)
        return room

    async def update_room(self, room_id: str, settings: RoomSettings) -> Room:
        room = await self.get_room(room_id)
        updated = apply_settings(room, settings)
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

    async def join(
        self,
        identity: Identity,
        room_id: str,
        sid: str,
        *,
        rejoin: bool = False,
        address: str | None = None,
        before_history: Callable[[str], Awaitable[None]] | None = None,
    ) -> JoinResult:
        """Join a room on socket ``sid``; ``rejoin`` when this socket is already in it (no announcement).

        ``address`` is the socket's client address, opaque here: only ever hashed (rule 26).

        ``before_history(room_id)`` runs once the join is allowed and before the history is read:
        the caller starts delivering the room's new messages to the socket there, so a message
        stored during the join is in the history, delivered live, or both (never neither).

        Peers are limited per identity in joins and in history bytes; the join token is taken
        before the first await and given back, like the bytes, when the join is refused.
        """
        limited = not identity.is_staff
        bucket = ("join", identity.id)
        if limited and (wait := self.join_limiter.take(bucket)):
            raise RateLimited(wait, "You are joining rooms too quickly; wait a moment.")
        history_kib = 0.0
        try:
            room = await self.get_room(room_id)
            you = self.member_for(identity, room.id)
            if limited:
                try:
                    await self.guards.check_join(room, you.id, identity=identity, address=address)
                except Waiting:
                    # Recorded, so that staff can admit or deny a member who has never been in.
                    await self.store.record_member(MemberRecord(room.id, you.id, identity.role, None))
                    raise
                if room.locked:
                    raise RoomLocked()
            if before_history is not None:
                await before_history(room.id)
            sealed = await self.store.history(room.id, now_ms=self.clock.now_ms(), limit=HISTORY_LIMIT)
            if limited:
                history_kib = sum(len(s.blob) for s in sealed) / 1024
                if wait := self.history_limiter.take(bucket, history_kib):
                    history_kib = 0.0
                    raise RateLimited(wait, "You are loading history too quickly; wait a moment.")
            return await self._join(identity, room, you, sid, sealed, rejoin=rejoin, address=address)
        except BaseException:
            if limited:
                self.join_limiter.refund(bucket)
                self.history_limiter.refund(bucket, history_kib)
            raise

    async def _join(
        self,
        identity: Identity,
        room: Room,
        you: Member,
        sid: str,
        sealed: list[SealedMessage],
        *,
        rejoin: bool,
        address: str | None,
    ) -> JoinResult:
        # Rule 27: presence picks the member's number among namesakes online, atomically.
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
        history = await self._open(sealed)
        mute = await self.guards.current_mute(room.id, you.id)
        return JoinResult(room, you, members, history, first and not rejoin, mute, returning_from)

    async def leave(self, room_id: str, member_id: str, sid: str) -> bool:
        return await self.presence.leave(room_id, member_id, sid)

    async def history(self, room_id: str) -> list[Message]:
        return await self._open(await self.store.history(room_id, now_ms=self.clock.now_ms(), limit=HISTORY_LIMIT))

    async def _open(self, sealed: list[SealedMessage]) -> list[Message]:
        opened = [await self.vault.open(s) for s in sealed]
        return [m for m in opened if m is not None]

    # messages ------------------------------------------------------------

    async def send(
        self,
        identity: Identity,
        room: Room,
        text: str,
        client_id: str | None,
        *,
        shown: Member | None = None,
        reply_to: str | None = None,
    ) -> Message:
        """Send as ``identity``; ``shown`` is the member as the room sees them (with their number)."""
        clean = clean_text(text)
        author = self.member_for(identity, room.id)
        if shown is not None and shown.id == author.id:
            author = shown
        # A resend under the same client id is answered with the message already stored: found
        # by the store's write itself (no lookup of its own on every send), or, when the send is
        # refused (too fast, muted since, ...), by a lookup then.
        dedupe = None if client_id is None else sent_key(author.id, client_id)
        bucket = (room.id, author.id)
        limited = not identity.is_staff
        if limited and room.slow_mode_s > 0 and (earlier := await self._stored(room.id, dedupe)) is not None:
            return earlier  # before the slow-mode window is taken: a resend must not move it
        # The token is taken before the first await, so concurrent sends of one member (from
        # many sockets) cannot all pass on the same token; a send refused later gives it back.
        if limited and (wait := self.limiter.take(bucket)):
            if (earlier := await self._stored(room.id, dedupe)) is not None:
                return earlier
            raise RateLimited(wait)
        try:
            msg, fresh = await self._send(identity, room, author, clean, client_id, dedupe, reply_to)
        except HearthError:
            if limited:
                self.limiter.refund(bucket)
            if (earlier := await self._stored(room.id, dedupe)) is not None:
                return earlier
            raise
        except BaseException:
            if limited:
                self.limiter.refund(bucket)
            raise
        if limited and not fresh:  # a resend costs no token
            self.limiter.refund(bucket)
        return msg

    async def _stored(self, room_id: str, dedupe: str | None) -> Message | None:
        if dedupe is None:
            return None
        earlier = await self.store.find_sent(room_id, dedupe, now_ms=self.clock.now_ms())
        return None if earlier is None else await self.find_message(room_id, earlier)

    async def _send(
        self,
        identity: Identity,
        room: Room,
        author: Member,
        clean: str,
        client_id: str | None,
        dedupe: str | None,
        reply_to: str | None,
    ) -> tuple[Message, bool]:
        """The message and True when stored now; the stored one and False for a resend."""
        if not identity.is_staff:
            await self.guards.check_send(room, author.id, identity=identity)
            if room.locked:
                raise RoomLocked()
        if reply_to is not None:
            await self.find_message(room.id, reply_to)  # a reply needs a live original (NotFound)
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
            reply_to=reply_to,
        )
        earlier = await self.store.add_message(await self.vault.seal(msg), dedupe=dedupe)
        if earlier is not None:  # stored before under the same client id
            return await self.find_message(room.id, earlier), False
        return msg, True

    def _next_id(self, now: int) -> str:
        # Time first, then a per-process sequence, so ids sort in send order even within one millisecond.
        self._seq = self._seq + 1 if now == self._seq_ms else 0
        self._seq_ms = now
        return f"{now:011x}{self._seq:04x}{secrets.token_hex(4)}"

    async def find_message(self, room_id: str, message_id: str) -> Message:
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

    async def member_record(self, room_id: str, member_id: str) -> MemberRecord:
        record = await self.store.get_member(room_id, member_id)
        if record is None:
            raise NotFound("No such member in this room.")
        return record

    async def purge(self) -> tuple[int, int]:
        now = self.clock.now_ms()
        counts = await self.store.purge(now_ms=now)
        self.vault.prune(now)
        for limiter in (self.limiter, self.join_limiter, self.history_limiter):
            limiter.prune()
        return counts
