"""Returning after a sanction (precise rule 26): address marks kept per room for the sanction's length.

A mark is a keyed hash of a client address (crypto.address_hash) for one UTC day, stored with the
sanctioned member's id and the sanction's end, and dropped when the sanction ends (at most 7 days;
24 hours for a mute without end) or its day has passed. At the moment of a sanction Hearth knows the
address, so it stores one hash per day the sanction covers: a different identity arriving from that
address on any of those days matches, yet no stored hash links one day to another. Marks live in
memory (embedded mode) or in Redis with an expiry; never in SQLite, never in a log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from crypto.address_hash import DAY_MS, AddressHasher, utc_day
from rooms.clock import Clock

MAX_KEEP_MS = 7 * DAY_MS
ENDLESS_MUTE_KEEP_MS = DAY_MS


@dataclass(frozen=True, slots=True)
class Mark:
    """A sanctioned member seen at an address: ``until`` is the sanction's end (None: a mute without end)."""

    member_id: str
    until: int | None
    expires_at: int


class AddressMarks(Protocol):
    async def put(self, room_id: str, entries: Sequence[tuple[str, Mark]]) -> None:
        """Store (address hash, mark) pairs; each disappears at its ``expires_at``."""

    async def find(self, room_id: str, hashes: Sequence[str], *, now_ms: int) -> list[Mark]:
        """Marks in force for any of these hashes."""

    async def drop_room(self, room_id: str) -> None: ...


class MemoryAddressMarks:
    """Marks for one process (the embedded mode): a dict, pruned as it is used."""

    PRUNE_EVERY_MS = 60_000

    def __init__(self) -> None:
        self._marks: dict[tuple[str, str], Mark] = {}
        self._pruned_at = 0

    def _prune(self, now_ms: int) -> None:
        if now_ms - self._pruned_at < self.PRUNE_EVERY_MS:
            return
        self._pruned_at = now_ms
        for k in [k for k, m in self._marks.items() if m.expires_at <= now_ms]:
            del self._marks[k]

    async def put(self, room_id: str, entries: Sequence[tuple[str, Mark]]) -> None:
        for digest, mark in entries:
            held = self._marks.get((room_id, digest))
            if held is None or held.expires_at <= mark.expires_at:
                self._marks[(room_id, digest)] = mark

    async def find(self, room_id: str, hashes: Sequence[str], *, now_ms: int) -> list[Mark]:
        self._prune(now_ms)
        found = [self._marks.get((room_id, h)) for h in hashes]
        return [m for m in found if m is not None and m.expires_at > now_ms]

    async def drop_room(self, room_id: str) -> None:
        for k in [k for k in self._marks if k[0] == room_id]:
            del self._marks[k]

    def __len__(self) -> int:
        return len(self._marks)


def keep_until(now_ms: int, sanction_until: int | None) -> int:
    """How long a sanction's marks are kept: its length, at most 7 days; 24 hours for a mute without end."""
    if sanction_until is None:
        return now_ms + ENDLESS_MUTE_KEEP_MS
    return min(sanction_until, now_ms + MAX_KEEP_MS)


class ReturningSignal:
    """Remembers where sanctioned members connect from, and recognises a new identity arriving from there."""

    def __init__(self, hasher: AddressHasher, marks: AddressMarks, clock: Clock, *, enabled: bool = True) -> None:
        self.hasher = hasher
        self.marks = marks
        self.clock = clock
        self.enabled = enabled

    async def remember(self, room_id: str, member_id: str, addresses: Sequence[str], sanction_until: int | None) -> int:
        """Mark each address of a sanctioned member for the sanction's length; return how many marks."""
        if not self.enabled or not addresses:
            return 0
        now = self.clock.now_ms()
        expires = keep_until(now, sanction_until)
        if expires <= now:
            return 0
        entries: list[tuple[str, Mark]] = []
        for day in range(utc_day(now), utc_day(expires - 1) + 1):
            # A day's hash is kept through the next day too, so a check made just after midnight
            # against yesterday's hash still matches; never past the sanction.
            mark = Mark(member_id, sanction_until, min(expires, (day + 2) * DAY_MS))
            entries += [(self.hasher.digest(address, day), mark) for address in sorted(set(addresses))]
        await self.marks.put(room_id, entries)
        return len(entries)

    async def match(self, room_id: str, member_id: str, address: str | None) -> Mark | None:
        """The sanction a different identity from this address is returning from, if any."""
        if not self.enabled or address is None:
            return None
        now = self.clock.now_ms()
        marks = await self.marks.find(room_id, self.hasher.recent(address, now), now_ms=now)
        found = [m for m in marks if m.member_id != member_id]
        if not found:
            return None
        # The longest sanction wins; a mute without end outlasts any other.
        return max(found, key=lambda m: (m.until is None, m.until or 0))
