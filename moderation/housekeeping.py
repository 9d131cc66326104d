"""The periodic purge: expired messages and keys, and flag snapshots past their retention."""

from __future__ import annotations

from dataclasses import dataclass

from moderation.context import Moderation


@dataclass(frozen=True, slots=True)
class Purged:
    messages: int
    keys: int
    flag_snapshots: int
    rooms: int  # rooms that exist after the purge (for the gauge)

    @property
    def anything(self) -> bool:
        return bool(self.messages or self.keys or self.flag_snapshots)


async def purge(mod: Moderation) -> Purged:
    messages, keys = await mod.rooms.purge()
    flags = await mod.store.purge_flags(now_ms=mod.clock.now_ms())
    rooms = len(await mod.rooms.store.list_rooms())
    return Purged(messages, keys, flags, rooms)
