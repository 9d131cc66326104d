"""Who is online in which room across every server process, kept in Redis with process heartbeats."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence

import redis.asyncio as aioredis

from crypto.sealing import SealError, open_sealed, seal
from rooms.errors import RoomFull, Unavailable
from rooms.models import Member, Role
from rooms.redis_common import guarded, key, script, text, texts

log = logging.getLogger(__name__)

UNREADABLE = "Someone"  # a pseudonym sealed under a secret key this process does not have yet


def _aad(room_id: str, member_id: str) -> bytes:
    # Bound to room and member, so a sealed pseudonym copied to another entry does not open.
    return f"hearth-presence/v1|{room_id}|{member_id}".encode()


class RedisPresence:
    """Presence shared by every process; each process proves it is alive with a heartbeat key."""

    PROCESSES = key("presence", "processes")  # set of process ids that may hold sockets

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        seal_keys: Sequence[bytes],
        process_id: str | None = None,
        ttl_ms: int = 15_000,
        interval_s: float = 5.0,
    ) -> None:
        """``seal_keys``: 32-byte keys, newest first; pseudonyms are stored sealed under the first."""
        if not seal_keys:
            raise ValueError("RedisPresence needs at least one sealing key")
        self.r = client
        self.seal_keys = tuple(seal_keys)
        self.process_id = process_id or secrets.token_hex(8)
        self.ttl_ms = ttl_ms
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        # rooms/lua/presence_*.lua, each behind the shared presence_lib.lua.
        self._join = script(client, "rooms", "presence_lib", "presence_join")
        self._live = script(client, "rooms", "presence_lib", "presence_live")
        self._sids = script(client, "rooms", "presence_lib", "presence_sids")
        self._leave = script(client, "rooms", "presence_lib", "presence_leave")
        self._remove = script(client, "rooms", "presence_lib", "presence_remove_member")
        self._reap = script(client, "rooms", "presence_lib", "presence_reap")

    def _seal(self, room_id: str, member: Member) -> bytes:
        return seal(self.seal_keys[0], member.pseudonym.encode(), _aad(room_id, member.id))

    def _member(self, room_id: str, member_id: bytes | str, info: bytes) -> tuple[bytes, Member]:
        role, joined, sealed = info.split(b"|", 2)
        mid = text(member_id)
        pseudonym = UNREADABLE
        for k in self.seal_keys:  # several during a secret key rotation
            try:
                pseudonym = open_sealed(k, sealed, _aad(room_id, mid)).decode()
                break
            except SealError:
                continue
        return joined, Member(mid, pseudonym, Role(int(role)))

    # key layout ----------------------------------------------------------------

    HEARTBEAT_PREFIX = key("presence", "process", "")

    def _heartbeat(self, pid: str) -> str:
        return key("presence", "process", pid)

    def _proc_rooms(self, pid: str) -> str:
        return key("presence", "process", pid, "rooms")

    @staticmethod
    def _sockets(room_id: str) -> str:
        return key("presence", "room", room_id, "sockets")

    @staticmethod
    def _members(room_id: str) -> str:
        return key("presence", "room", room_id, "members")

    # heartbeat -----------------------------------------------------------------

    @guarded
    async def beat(self) -> None:
        """Refresh this process's heartbeat (the background task does this every ``interval_s``)."""
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.set(self._heartbeat(self.process_id), b"1", px=self.ttl_ms, get=True)
            pipe.sadd(self.PROCESSES, self.process_id)
            previous, _ = await pipe.execute()
        if previous is None and self._task is not None:
            # Lapsed (a long stall or a Redis outage): survivors may have reaped our sockets.
            log.warning("event=presence_heartbeat_lapsed process=%s", self.process_id)

    async def start(self) -> None:
        await self.beat()
        self._task = asyncio.create_task(self._beat_loop(), name=f"presence-heartbeat-{self.process_id}")

    async def _beat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.beat()
            except Unavailable:
                log.warning("event=presence_heartbeat code=unavailable process=%s", self.process_id)
            except Exception:  # the heartbeat must outlive any one bad beat, or our sockets vanish
                log.exception("event=presence_heartbeat unhandled process=%s", self.process_id)

    async def stop_heartbeat(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def aclose(self) -> None:
        """Stop the heartbeat and drop it, so other processes stop counting our sockets at once."""
        await self.stop_heartbeat()
        with contextlib.suppress(Unavailable):
            await guarded(self.r.delete)(self._heartbeat(self.process_id))

    # presence ------------------------------------------------------------------

    @guarded
    async def join(self, room_id: str, member: Member, sid: str, *, capacity: int | None) -> bool:
        result = await self._join(
            keys=[self._sockets(room_id), self._members(room_id), self._proc_rooms(self.process_id)],
            args=[
                self.HEARTBEAT_PREFIX,
                sid,
                member.id,
                self.process_id,
                int(member.role),
                self._seal(room_id, member),
                "" if capacity is None else capacity,
                room_id,
            ],
        )
        if int(result) < 0:
            raise RoomFull()
        return bool(result)

    @guarded
    async def leave(self, room_id: str, member_id: str, sid: str) -> bool:
        last = await self._leave(
            keys=[self._sockets(room_id), self._members(room_id)],
            args=[self.HEARTBEAT_PREFIX, sid, member_id],
        )
        return bool(last)

    @guarded
    async def remove_member(self, room_id: str, member_id: str) -> list[str]:
        sids = await self._remove(
            keys=[self._sockets(room_id), self._members(room_id)], args=[self.HEARTBEAT_PREFIX, member_id]
        )
        return sorted(text(s) for s in sids)

    @guarded
    async def members(self, room_id: str) -> list[Member]:
        flat = await self._live(keys=[self._sockets(room_id), self._members(room_id)], args=[self.HEARTBEAT_PREFIX])
        found = [self._member(room_id, flat[i], flat[i + 1]) for i in range(0, len(flat), 2) if flat[i + 1]]
        # Oldest first join first, like the in-memory presence.
        return [m for _, m in sorted(found, key=lambda jm: (jm[0], jm[1].id))]

    @guarded
    async def counts(self, room_ids: list[str]) -> dict[str, int]:
        async with self.r.pipeline(transaction=False) as pipe:
            for room_id in room_ids:
                await self._live(
                    keys=[self._sockets(room_id), self._members(room_id)],
                    args=[self.HEARTBEAT_PREFIX, "count"],
                    client=pipe,
                )
            counts = await pipe.execute()
        return {room_id: int(n) for room_id, n in zip(room_ids, counts, strict=True)}

    @guarded
    async def sids(self, room_id: str, member_id: str) -> list[str]:
        sids = await self._sids(keys=[self._sockets(room_id)], args=[self.HEARTBEAT_PREFIX, member_id])
        return sorted(text(s) for s in sids)

    @guarded
    async def drop_room(self, room_id: str) -> None:
        await self.r.delete(self._sockets(room_id), self._members(room_id))

    @guarded
    async def reap(self) -> list[tuple[str, str]]:
        """Remove sockets of processes whose heartbeat lapsed; return the (room, member) pairs now offline."""
        pids = sorted(p for p in texts(await self.r.smembers(self.PROCESSES)) if p != self.process_id)
        if not pids:
            return []
        async with self.r.pipeline(transaction=False) as pipe:
            for pid in pids:
                pipe.exists(self._heartbeat(pid))
            alive = await pipe.execute()
        gone: list[tuple[str, str]] = []
        for pid, is_alive in zip(pids, alive, strict=True):
            if is_alive:
                continue
            flat = await self._reap(
                keys=[self.PROCESSES, self._proc_rooms(pid)],
                args=[self.HEARTBEAT_PREFIX, pid, key("presence", "room", ""), ":sockets", ":members"],
            )
            gone += [(text(flat[i]), text(flat[i + 1])) for i in range(0, len(flat), 2)]
        if gone:
            log.info("event=presence_reaped processes=%d members=%d", len(pids), len(gone))
        return sorted(gone)
