"""Moderation's answers to the rooms domain: is this member banned, is this member muted."""

from __future__ import annotations

from moderation.store import ModStore
from rooms.clock import Clock
from rooms.errors import Banned, Muted
from rooms.models import MuteState, Room


class ModerationGuards:
    def __init__(self, store: ModStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def check_join(self, room: Room, member_id: str) -> None:
        ban = await self.store.get_ban(room.id, member_id, now_ms=self.clock.now_ms())
        if ban is not None:
            raise Banned(ban.until)

    async def current_mute(self, room_id: str, member_id: str) -> MuteState | None:
        mute = await self.store.get_mute(room_id, member_id, now_ms=self.clock.now_ms())
        return None if mute is None else MuteState(mute.until, mute.reason)

    async def check_send(self, room: Room, member_id: str) -> None:
        mute = await self.store.get_mute(room.id, member_id, now_ms=self.clock.now_ms())
        if mute is not None:
            raise Muted(mute.until)
