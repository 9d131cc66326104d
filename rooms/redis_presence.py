"""Who is online in which room across every server process, kept in Redis with process heartbeats."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Iterable, Sequence

import redis.asyncio as aioredis

from crypto.sealing import SealError, open_sealed, seal
from rooms.errors import RoomFull, Unavailable
from rooms.models import Member, Role
from rooms.names import numbered
from rooms.presence import RemovedWhileAway
from rooms.redis_common import DOWN, guarded, key, script, stop_task, text, texts

log = logging.getLogger(__name__)

RETRY_S = 0.5  # a failed beat is retried this soon
UNREADABLE = "Someone"  # a pseudonym sealed under a secret key this process does not have yet
REMOVED_SINCE = -2  # presence_join.lua: the member was removed after this socket joined


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
        # This process's own sockets (put back if our heartbeat lapsed), and leaves that could not
        # reach Redis yet (finished by reap()).
        self._local: dict[tuple[str, str], Member] = {}
        self._local_names: dict[tuple[str, str], tuple[str, ...]] = {}  # their name keys (rule 27)
        self._local_removals: dict[tuple[str, str], int] = {}  # the member's removal count when it joined
        self._on_removed: RemovedWhileAway | None = None
        self._pending_leaves: dict[tuple[str, str], str] = {}
        self._out_of_touch_at: float | None = None  # monotonic time of the last failed beat
        self._reassert_pending = False  # our heartbeat lapsed and our sockets are not all back yet
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
        role, joined, number, _name_key, sealed = info.split(b"|", 4)
        mid = text(member_id)
        pseudonym = UNREADABLE
        for k in self.seal_keys:  # several during a secret key rotation
            try:
                pseudonym = open_sealed(k, sealed, _aad(room_id, mid)).decode()
                break
            except SealError:
                continue
        return joined, Member(mid, numbered(pseudonym, int(number)), Role(int(role)))

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

    @staticmethod
    def _names(room_id: str) -> str:
        return key("presence", "room", room_id, "names")

    # heartbeat -----------------------------------------------------------------

    async def beat(self) -> None:
        """Refresh this process's heartbeat (the background task does this every ``interval_s``).

        A beat that fails marks this process as out of touch: it does not judge other processes
        dead until its own beats have succeeded for a whole TTL again (see ``reap``). A beat that
        finds its heartbeat gone (an outage longer than the TTL, or Redis lost its data) puts
        this process's sockets back.
        """
        try:
            async with self.r.pipeline(transaction=True) as pipe:
                pipe.set(self._heartbeat(self.process_id), b"1", px=self.ttl_ms, get=True)
                pipe.sadd(self.PROCESSES, self.process_id)
                previous, _ = await pipe.execute()
        except DOWN as exc:
            self._out_of_touch_at = time.monotonic()
            raise Unavailable("The shared store (Redis) is unavailable; retry later.") from exc
        if previous is None and self._task is not None:
            # Lapsed (a long stall or a Redis outage): survivors may have reaped our sockets.
            log.warning("event=presence_heartbeat_lapsed process=%s", self.process_id)
            self._out_of_touch_at = time.monotonic()
            self._reassert_pending = True
        if self._reassert_pending:
            # Until one re-assert has gone through to the end: one cut short by Redis failing
            # again is run again by the next beat, whose heartbeat is no longer missing.
            try:
                await self._reassert()
            except DOWN as exc:
                self._out_of_touch_at = time.monotonic()
                raise Unavailable("The shared store (Redis) is unavailable; retry later.") from exc
            self._reassert_pending = False

    async def start(self) -> None:
        await self.beat()
        self._task = asyncio.create_task(self._beat_loop(), name=f"presence-heartbeat-{self.process_id}")

    async def _beat_loop(self) -> None:
        delay = self.interval_s
        while True:
            await asyncio.sleep(delay)
            try:
                await self.beat()
                delay = self.interval_s
            except Unavailable:
                # Beat again soon: Redis back means our heartbeat back before anyone may reap.
                delay = min(self.interval_s, RETRY_S)
                log.warning("event=presence_heartbeat code=unavailable process=%s", self.process_id)
            except Exception:  # the heartbeat must outlive any one bad beat, or our sockets vanish
                delay = min(self.interval_s, RETRY_S)
                log.exception("event=presence_heartbeat unhandled process=%s", self.process_id)

    async def stop_heartbeat(self) -> None:
        if self._task is not None:
            task, self._task = self._task, None
            await stop_task(task)

    async def aclose(self) -> None:
        """Stop the heartbeat and drop it, so other processes stop counting our sockets at once."""
        await self.stop_heartbeat()
        with contextlib.suppress(Unavailable):
            await guarded(self.r.delete)(self._heartbeat(self.process_id))

    def on_removed_while_away(self, callback: RemovedWhileAway) -> None:
        """Who takes a member's local sockets out when ``_reassert`` finds it was removed meanwhile."""
        self._on_removed = callback

    async def _reassert(self) -> None:
        """Put this process's sockets back after its heartbeat lapsed (capacity was checked when they joined).

        A member removed (``mod:remove``) while we were cut off is not put back: another process
        may have reaped our sockets and then removed the member without us hearing the kick.
        Its sockets here are forgotten and handed to the ``on_removed_while_away`` callback.
        """
        removed: dict[tuple[str, str], int | None] = {}
        try:
            for (room_id, sid), member in list(self._local.items()):
                if (room_id, sid) not in self._local:  # forgotten meanwhile (a kick, a leave)
                    continue
                seen = self._local_removals.get((room_id, sid), 0)
                result = await self._join_script(
                    room_id, member, sid, None, self._local_names.get((room_id, sid), ()), seen=seen
                )
                if result[0] == REMOVED_SINCE:
                    self._drop_local(room_id, sid)
                    removed[room_id, member.id] = result[2]
        finally:  # a pass cut short still hands over the removals it found (they are forgotten here)
            await self._hand_over_removed(removed)
        if self._local or removed:
            log.info(
                "event=presence_reasserted process=%s sockets=%d removed_meanwhile=%d",
                self.process_id,
                len(self._local),
                len(removed),
            )

    async def _hand_over_removed(self, removed: dict[tuple[str, str], int | None]) -> None:
        for (room_id, member_id), banned_until in removed.items():
            if self._on_removed is None:
                continue
            try:
                await self._on_removed(room_id, member_id, banned_until)
            except Exception:  # the others must still be handled
                log.exception("event=presence_removed_meanwhile unhandled process=%s", self.process_id)

    def _drop_local(self, room_id: str, sid: str) -> None:
        self._local.pop((room_id, sid), None)
        self._local_names.pop((room_id, sid), None)
        self._local_removals.pop((room_id, sid), None)

    # presence ------------------------------------------------------------------

    @staticmethod
    def _removals(room_id: str) -> str:
        return key("presence", "room", room_id, "removals")

    async def _join_script(
        self,
        room_id: str,
        member: Member,
        sid: str,
        capacity: int | None,
        names: Sequence[str],
        *,
        seen: int | None = None,
    ) -> tuple[int, int, int | None]:
        """(first / RoomFull -1 / REMOVED_SINCE, number, removal count; after REMOVED_SINCE: ban end)."""
        result = await self._join(
            keys=[
                self._sockets(room_id),
                self._members(room_id),
                self._proc_rooms(self.process_id),
                self._names(room_id),
                self._removals(room_id),
            ],
            args=[
                self.HEARTBEAT_PREFIX,
                sid,
                member.id,
                self.process_id,
                int(member.role),
                self._seal(room_id, member),
                "" if capacity is None else capacity,
                room_id,
                "" if seen is None else seen,
                *names,
            ],
        )
        if int(result[0]) == REMOVED_SINCE:
            banned = text(result[3]) if len(result) > 3 else ""
            return REMOVED_SINCE, 0, int(banned) if banned else None
        return int(result[0]), int(result[1]), int(result[2])

    async def join(self, room_id: str, member: Member, sid: str, *, capacity: int | None) -> bool:
        first, _ = await self.join_named(room_id, member, sid, capacity=capacity, names=())
        return first

    @guarded
    async def join_named(
        self, room_id: str, member: Member, sid: str, *, capacity: int | None, names: Sequence[str]
    ) -> tuple[bool, int]:
        self._pending_leaves.pop((room_id, sid), None)
        result, number, removals = await self._join_script(room_id, member, sid, capacity, names)
        if result < 0:
            raise RoomFull()
        self._local[room_id, sid] = member
        self._local_names[room_id, sid] = tuple(names)
        self._local_removals[room_id, sid] = removals or 0
        return bool(result), number

    async def leave(self, room_id: str, member_id: str, sid: str) -> bool:
        """Remove a socket. When Redis cannot be reached the leave is kept and retried by ``reap()``,
        which then reports the member as gone: a leave is never lost, and never raises."""
        self._drop_local(room_id, sid)
        try:
            return await self._leave_now(room_id, member_id, sid)
        except Unavailable:
            self._pending_leaves[room_id, sid] = member_id
            log.warning("event=presence_leave code=unavailable deferred=%d", len(self._pending_leaves))
            return False

    @guarded
    async def _leave_now(self, room_id: str, member_id: str, sid: str) -> bool:
        last = await self._leave(
            keys=[self._sockets(room_id), self._members(room_id), self._names(room_id)],
            args=[self.HEARTBEAT_PREFIX, sid, member_id],
        )
        return bool(last)

    @guarded
    async def remove_member(self, room_id: str, member_id: str, *, banned_until: int | None = None) -> list[str]:
        sids = sorted(
            text(s)
            for s in await self._remove(
                keys=[self._sockets(room_id), self._members(room_id), self._names(room_id), self._removals(room_id)],
                args=[self.HEARTBEAT_PREFIX, member_id, "" if banned_until is None else banned_until],
            )
        )
        self.forget(room_id, member_id)
        return sids

    def forget(self, room_id: str, member_id: str) -> None:
        """This process no longer holds sockets of this member in this room (they were removed)."""
        for room_sid, member in list(self._local.items()):
            if room_sid[0] == room_id and member.id == member_id:
                self._drop_local(*room_sid)

    @guarded
    async def holders(self, room_id: str, member_id: str) -> set[str]:
        """The processes that hold a socket of this member in this room."""
        flat = await self.r.hvals(self._sockets(room_id))
        return {pid for pid, _, mid in (text(v).partition("|") for v in flat) if mid == member_id}

    @guarded
    async def alive(self, process_ids: Iterable[str]) -> set[str]:
        """Which of these processes have a heartbeat."""
        pids = sorted(process_ids)
        async with self.r.pipeline(transaction=False) as pipe:
            for pid in pids:
                pipe.exists(self._heartbeat(pid))
            found = await pipe.execute()
        return {pid for pid, n in zip(pids, found, strict=True) if n}

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
        for room_sid in [rs for rs in self._local if rs[0] == room_id]:
            self._drop_local(*room_sid)
        for room_sid in [rs for rs in self._pending_leaves if rs[0] == room_id]:
            del self._pending_leaves[room_sid]
        await self.r.delete(
            self._sockets(room_id), self._members(room_id), self._names(room_id), self._removals(room_id)
        )

    def may_reap(self) -> bool:
        """Judge others dead only after our own beats have reached Redis for a whole TTL.

        After an outage every heartbeat may have lapsed at once; each process then gets a
        TTL to beat again (it retries every RETRY_S) before anyone counts it as gone.
        """
        out_of_touch = self._out_of_touch_at
        return out_of_touch is None or time.monotonic() - out_of_touch >= self.ttl_ms / 1000

    @guarded
    async def reap(self) -> list[tuple[str, str]]:
        """Finish deferred leaves and remove sockets of processes whose heartbeat lapsed;
        return the (room, member) pairs now offline."""
        gone: list[tuple[str, str]] = []
        for (room_id, sid), member_id in list(self._pending_leaves.items()):
            if await self._leave_now(room_id, member_id, sid):
                gone.append((room_id, member_id))
            self._pending_leaves.pop((room_id, sid), None)
        if not self.may_reap():
            return sorted(gone)
        pids = sorted(p for p in texts(await self.r.smembers(self.PROCESSES)) if p != self.process_id)
        if not pids:
            return sorted(gone)
        alive = await self.alive(pids)
        for pid in pids:
            if pid in alive:
                continue
            flat = await self._reap(
                keys=[self.PROCESSES, self._proc_rooms(pid)],
                args=[self.HEARTBEAT_PREFIX, pid, key("presence", "room", ""), ":sockets", ":members"],
            )
            gone += [(text(flat[i]), text(flat[i + 1])) for i in range(0, len(flat), 2)]
        if gone:
            log.info("event=presence_reaped processes=%d members=%d", len(pids) - len(alive), len(gone))
        return sorted(gone)
