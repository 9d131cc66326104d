"""Who is online in which room, with which sockets (per process, or shared through Redis)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from rooms.errors import RoomFull
from rooms.models import Member, Role
from rooms.names import numbered

# Told when a member this process holds sockets of was removed while it was cut off from the shared
# store: (room id, member id, banned until or None). The server takes those sockets out of the room.
RemovedWhileAway = Callable[[str, str, int | None], Awaitable[None]]


class Presence(Protocol):
    async def join(self, room_id: str, member: Member, sid: str, *, capacity: int | None) -> bool:
        """Add a socket; True when it is the member's first. Raise RoomFull for a new peer over capacity."""

    async def join_named(
        self, room_id: str, member: Member, sid: str, *, capacity: int | None, names: Sequence[str]
    ) -> tuple[bool, int]:
        """As ``join``, and decide the member's number in the same step (precise rule 27).

        ``names`` are the keys of the member's candidate names (rooms.names.RoomNames): the first
        not held by another member online is theirs. Returns the first-socket flag and the number
        (1 = unnumbered); the number stays while the member is online, and ``members`` shows it.
        """

    async def leave(self, room_id: str, member_id: str, sid: str) -> bool:
        """Remove a socket; True when that was the member's last one in the room."""

    async def remove_member(self, room_id: str, member_id: str, *, banned_until: int | None = None) -> list[str]:
        """Remove every socket of a member; return their sids. ``banned_until``: the ban this removal
        came with, for a process that was cut off meanwhile and takes its sockets out on return."""

    async def holders(self, room_id: str, member_id: str) -> set[str]:
        """The ids of the processes holding a socket of this member in this room."""

    def forget(self, room_id: str, member_id: str) -> None:
        """This process's sockets of the member were taken out of the room (by a kick)."""

    def on_removed_while_away(self, callback: RemovedWhileAway) -> None:
        """Who takes a member's sockets here out of a room when the member turns out to have been
        removed while this process was cut off from the shared store (it missed the kick)."""

    async def members(self, room_id: str) -> list[Member]: ...
    async def counts(self, room_ids: list[str]) -> dict[str, int]: ...
    async def sids(self, room_id: str, member_id: str) -> list[str]: ...
    async def drop_room(self, room_id: str) -> None: ...

    async def reap(self) -> list[tuple[str, str]]:
        """Forget sockets of processes that died; return the (room, member) pairs that went offline."""

    async def aclose(self) -> None: ...


@dataclass
class _Online:
    member: Member  # as shown in the room: the pseudonym carries its number
    sids: set[str] = field(default_factory=set)
    number: int = 1
    name_key: str | None = None


class MemoryPresence:
    """Presence for one process (the embedded store's mode)."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, _Online]] = {}

    async def join(self, room_id: str, member: Member, sid: str, *, capacity: int | None) -> bool:
        first, _ = await self.join_named(room_id, member, sid, capacity=capacity, names=())
        return first

    async def join_named(
        self, room_id: str, member: Member, sid: str, *, capacity: int | None, names: Sequence[str]
    ) -> tuple[bool, int]:
        online = self._rooms.setdefault(room_id, {})
        entry = online.get(member.id)
        if entry is None:
            if capacity is not None and member.role is Role.PEER:
                peers = sum(1 for e in online.values() if e.member.role is Role.PEER)
                if peers >= capacity:
                    raise RoomFull()
            held = {e.name_key for e in online.values() if e.name_key is not None}
            number, name_key = 1, None
            for position, candidate in enumerate(names, start=1):
                if candidate not in held:
                    number, name_key = position, candidate
                    break
            shown = replace(member, pseudonym=numbered(member.pseudonym, number))
            entry = online[member.id] = _Online(shown, number=number, name_key=name_key)
        first = not entry.sids
        entry.sids.add(sid)
        return first, entry.number

    async def leave(self, room_id: str, member_id: str, sid: str) -> bool:
        online = self._rooms.get(room_id, {})
        entry = online.get(member_id)
        if entry is None or sid not in entry.sids:
            return False
        entry.sids.discard(sid)
        if entry.sids:
            return False
        del online[member_id]
        if not online:
            self._rooms.pop(room_id, None)
        return True

    async def remove_member(self, room_id: str, member_id: str, *, banned_until: int | None = None) -> list[str]:
        online = self._rooms.get(room_id, {})
        entry = online.pop(member_id, None)
        if not online:
            self._rooms.pop(room_id, None)
        return [] if entry is None else sorted(entry.sids)

    async def holders(self, room_id: str, member_id: str) -> set[str]:
        entry = self._rooms.get(room_id, {}).get(member_id)
        return {"local"} if entry is not None and entry.sids else set()

    def forget(self, room_id: str, member_id: str) -> None:
        """Nothing to do: remove_member() is this process's whole record."""

    def on_removed_while_away(self, callback: RemovedWhileAway) -> None:
        """Never called: one process is never cut off from its own presence."""

    async def members(self, room_id: str) -> list[Member]:
        return [e.member for e in self._rooms.get(room_id, {}).values()]

    async def counts(self, room_ids: list[str]) -> dict[str, int]:
        return {r: len(self._rooms.get(r, {})) for r in room_ids}

    async def sids(self, room_id: str, member_id: str) -> list[str]:
        entry = self._rooms.get(room_id, {}).get(member_id)
        return [] if entry is None else sorted(entry.sids)

    async def drop_room(self, room_id: str) -> None:
        self._rooms.pop(room_id, None)

    async def reap(self) -> list[tuple[str, str]]:
        return []  # one process: its sockets die with it

    async def aclose(self) -> None:
        self._rooms.clear()
