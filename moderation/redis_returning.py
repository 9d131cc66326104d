"""Address marks (precise rule 26) in Redis: one key per room and hash, expiring with the mark."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import redis.asyncio as aioredis

from moderation.returning import Mark
from rooms.redis_common import guarded, key, script


class RedisAddressMarks:
    def __init__(self, client: aioredis.Redis) -> None:
        self.r = client
        self._put = script(client, "moderation", "returning_put")

    @staticmethod
    def _key(room_id: str, digest: str) -> str:
        return key("room", room_id, "returning", digest)

    @guarded
    async def put(self, room_id: str, entries: Sequence[tuple[str, Mark]]) -> None:
        if not entries:
            return
        args: list[bytes | int] = []
        for _, mark in entries:
            args += [orjson.dumps({"m": mark.member_id, "u": mark.until, "e": mark.expires_at}), mark.expires_at]
        await self._put(keys=[self._key(room_id, d) for d, _ in entries], args=args)

    @guarded
    async def find(self, room_id: str, hashes: Sequence[str], *, now_ms: int) -> list[Mark]:
        if not hashes:
            return []
        raw = await self.r.mget([self._key(room_id, h) for h in hashes])
        marks = []
        for value in raw:
            if value is None:
                continue
            data = orjson.loads(value)
            mark = Mark(str(data["m"]), None if data["u"] is None else int(data["u"]), int(data["e"]))
            if mark.expires_at > now_ms:
                marks.append(mark)
        return marks

    @guarded
    async def drop_room(self, room_id: str) -> None:
        pattern = self._key(room_id, "*")
        async for k in self.r.scan_iter(match=pattern, count=500):
            await self.r.delete(k)
