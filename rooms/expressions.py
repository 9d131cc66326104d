"""What peers express besides messages: typing cues, supportive reactions, deleting their own words.

Typing cues are never stored: a per-process gate lets at most one through per member and room
every TYPING_EVERY_MS. Reactions are a small fixed set; the store keeps, per message, which
kinds were given under a keyed tag per member (never the member id), and they expire with
the message.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from rooms.clock import Clock
from rooms.errors import Forbidden, RateLimited
from rooms.limits import TokenBucket
from rooms.member_ids import MemberIds
from rooms.models import Identity, Member, Message
from rooms.service import RoomService
from rooms.store import RoomStore

TYPING_EVERY_MS = 2000


class Reaction(StrEnum):
    HEAR_YOU = "hear_you"  # "I hear you"
    ME_TOO = "me_too"  # "Me too"
    THANK_YOU = "thank_you"  # "Thank you"
    STRENGTH = "strength"  # "Sending strength"
    NOT_ALONE = "not_alone"  # "You're not alone"


@dataclass(frozen=True, slots=True)
class Reactions:
    """The reactions to one message: counts by kind (only kinds given), and those the viewer gave."""

    counts: dict[str, int]
    mine: list[str]


NONE = Reactions({}, [])


@dataclass(frozen=True, slots=True)
class ReactResult:
    room: str
    message_id: str
    reactions: Reactions


class Expressions:
    def __init__(self, rooms: RoomService, store: RoomStore, member_ids: MemberIds, clock: Clock) -> None:
        self.rooms = rooms
        self.store = store
        self.member_ids = member_ids
        self.clock = clock
        self._typing: dict[tuple[str, str], int] = {}  # (room, member) -> last cue let through
        self._react_limit = TokenBucket(clock, burst=10, refill_ms=500)

    # typing --------------------------------------------------------------

    async def typing(self, identity: Identity, room_id: str) -> Member | None:
        """The member whose cue goes to the room now, or None (too soon, muted, or a locked room)."""
        room = await self.rooms.get_room(room_id)
        member = self.rooms.member_for(identity, room.id)
        now = self.clock.now_ms()
        last = self._typing.get((room.id, member.id))
        if last is not None and now - last < TYPING_EVERY_MS:
            return None
        if not identity.is_staff:
            if room.locked or await self.rooms.guards.current_mute(room.id, member.id) is not None:
                return None
        self._typing[(room.id, member.id)] = now
        if len(self._typing) > 4096:
            self.prune()
        return member

    def sent(self, room_id: str, member_id: str) -> None:
        """A message went out: the member's next typing cue may go at once."""
        self._typing.pop((room_id, member_id), None)

    # reactions -------------------------------------------------------------

    def _summary(self, room_id: str, message_id: str, given: list[tuple[str, str]], member_id: str) -> Reactions:
        counts = Counter(kind for kind, _ in given)
        mine_tag = self.member_ids.reaction_tag(room_id, message_id, member_id)
        mine = sorted({kind for kind, tag in given if tag == mine_tag})
        return Reactions({k.value: counts[k.value] for k in Reaction if counts[k.value]}, mine)

    async def react(
        self, identity: Identity, room_id: str, message_id: str, kind: Reaction, *, on: bool
    ) -> ReactResult:
        member = self.rooms.member_for(identity, room_id)
        bucket = (room_id, member.id)
        if wait := self._react_limit.take(bucket):
            raise RateLimited(wait)
        msg = await self.rooms.find_message(room_id, message_id)  # NotFound once expired or deleted
        tag = self.member_ids.reaction_tag(room_id, msg.id, member.id)
        await self.store.set_reaction(room_id, msg.id, kind.value, tag, on=on, expires_at=msg.expires_at)
        given = (await self.store.reactions(room_id, [msg.id])).get(msg.id, [])
        return ReactResult(room_id, msg.id, self._summary(room_id, msg.id, given, member.id))

    async def summaries(self, room_id: str, messages: list[Message], member_id: str) -> dict[str, Reactions]:
        """Reactions to each of ``messages`` as ``member_id`` sees them (for the join ack's history)."""
        given = await self.store.reactions(room_id, [m.id for m in messages])
        return {mid: self._summary(room_id, mid, rows, member_id) for mid, rows in given.items()}

    # deleting one's own message ---------------------------------------------------

    async def delete_own(self, identity: Identity, room_id: str, message_id: str) -> str:
        """Delete a message its author wrote; anyone else's is ``forbidden`` (staff use mod:delete)."""
        msg = await self.rooms.find_message(room_id, message_id)
        if msg.author.id != self.rooms.member_for(identity, room_id).id:
            raise Forbidden("You can only delete your own messages.")
        await self.rooms.delete_message(room_id, msg.id)
        return msg.id

    def prune(self) -> None:
        now = self.clock.now_ms()
        for k in [k for k, at in self._typing.items() if now - at >= TYPING_EVERY_MS]:
            del self._typing[k]
        self._react_limit.prune()
