"""The shared safety store: guideline acceptances in Redis, one hash per room."""

from __future__ import annotations

import redis.asyncio as aioredis

from rooms.redis_common import guarded, key


def _accepted_key(room_id: str) -> str:
    return key("room", room_id, "guidelines-accepted")


class RedisSafetyStore:
    def __init__(self, client: aioredis.Redis) -> None:
        self.r = client

    @guarded
    async def accept_guidelines(self, room_id: str, member_id: str, version: int) -> None:
        await self.r.hset(_accepted_key(room_id), member_id, version)

    @guarded
    async def accepted_guidelines(self, room_id: str, member_id: str) -> int:
        raw = await self.r.hget(_accepted_key(room_id), member_id)
        return 0 if raw is None else int(raw)

    @guarded
    async def delete_room(self, room_id: str) -> None:
        await self.r.delete(_accepted_key(room_id))
