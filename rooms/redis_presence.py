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
from rooms.names import numbered
from rooms.redis_store import guarded, key, text, texts

log = logging.getLogger(__name__)

# Shared by every script: a socket is "pid|member_id"; it counts only while its process's
# heartbeat key exists. ARGV[1] is always the heartbeat key prefix.
_LIB = """
local hb = ARGV[1]
local alive_cache = {}
local function alive(pid)
  local a = alive_cache[pid]
  if a == nil then
    a = redis.call('EXISTS', hb .. pid) == 1
    alive_cache[pid] = a
  end
  return a
end
local function split(v)
  local bar = string.find(v, '|', 1, true)
  return string.sub(v, 1, bar - 1), string.sub(v, bar + 1)
end
-- A member's info is "role|joined|number|name key|sealed pseudonym"; the name key may be empty.
local function name_key(info)
  local a = string.find(info, '|', 1, true)
  local b = string.find(info, '|', a + 1, true)
  local c = string.find(info, '|', b + 1, true)
  local d = string.find(info, '|', c + 1, true)
  return string.sub(info, c + 1, d - 1), string.sub(info, b + 1, c - 1)
end
local function live_members(sockets)
  local live = {}
  local flat = redis.call('HGETALL', sockets)
  for i = 1, #flat, 2 do
    local pid, mid = split(flat[i + 1])
    if alive(pid) then live[mid] = true end
  end
  return live
end
"""

# Capacity is checked, the member's number chosen (precise rule 27) and the socket added in one
# step, so concurrent joins on any number of processes never overfill a room nor share a name.
# KEYS: sockets, members, this process's rooms, names (name key -> member id).
# ARGV[9..]: the keys of the member's candidate names, unnumbered first.
_JOIN = (
    _LIB
    + """
local sid, mid, pid, role = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local sealed, capacity, room = ARGV[6], ARGV[7], ARGV[8]
local live = live_members(KEYS[1])
local first = not live[mid]
local number = 1
if first then
  if capacity ~= '' and role == '0' then
    local peers = 0
    for m in pairs(live) do
      local info = redis.call('HGET', KEYS[2], m)
      if info and string.sub(info, 1, 2) == '0|' then peers = peers + 1 end
    end
    if peers >= tonumber(capacity) then return {-1, 0} end
  end
  local chosen = ''
  for i = 9, #ARGV do
    local holder = redis.call('HGET', KEYS[4], ARGV[i])
    local free = true
    if holder and holder ~= mid and live[holder] then
      local info = redis.call('HGET', KEYS[2], holder)
      free = not info or name_key(info) ~= ARGV[i]
    end
    if free then
      number, chosen = i - 8, ARGV[i]
      break
    end
  end
  if chosen ~= '' then redis.call('HSET', KEYS[4], chosen, mid) end
  local t = redis.call('TIME')
  local joined = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('HSET', KEYS[2], mid, role .. '|' .. joined .. '|' .. number .. '|' .. chosen .. '|' .. sealed)
else
  local info = redis.call('HGET', KEYS[2], mid)
  if info then
    local _, n = name_key(info)
    number = tonumber(n) or 1
  end
end
redis.call('HSET', KEYS[1], sid, pid .. '|' .. mid)
redis.call('SADD', KEYS[3], room)
if first then return {1, number} end
return {0, number}
"""
)

_LIVE = (
    _LIB
    + """
local live = live_members(KEYS[1])
local out = {}
for m in pairs(live) do
  out[#out + 1] = m
  out[#out + 1] = redis.call('HGET', KEYS[2], m) or ''
end
if ARGV[2] == 'count' then return #out / 2 end
return out
"""
)

_SIDS = (
    _LIB
    + """
local out = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  local pid, mid = split(flat[i + 1])
  if mid == ARGV[2] and alive(pid) then out[#out + 1] = flat[i] end
end
return out
"""
)

# The last live socket gone: the member's sockets on dead processes go too, so a later reap()
# does not report the same member as leaving a second time.
_LEAVE = (
    _LIB
    + """
local v = redis.call('HGET', KEYS[1], ARGV[2])
if not v then return 0 end
local _, m = split(v)
if m ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[2])
local stale = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  local pid, mid = split(flat[i + 1])
  if mid == ARGV[3] then
    if alive(pid) then return 0 end
    stale[#stale + 1] = flat[i]
  end
end
if #stale > 0 then redis.call('HDEL', KEYS[1], unpack(stale)) end
local info = redis.call('HGET', KEYS[2], ARGV[3])
if info then
  local nk = name_key(info)
  if nk ~= '' and redis.call('HGET', KEYS[3], nk) == ARGV[3] then redis.call('HDEL', KEYS[3], nk) end
end
redis.call('HDEL', KEYS[2], ARGV[3])
return 1
"""
)

_REMOVE_MEMBER = (
    _LIB
    + """
local out = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  local _, mid = split(flat[i + 1])
  if mid == ARGV[2] then out[#out + 1] = flat[i] end
end
if #out > 0 then redis.call('HDEL', KEYS[1], unpack(out)) end
local info = redis.call('HGET', KEYS[2], ARGV[2])
if info then
  local nk = name_key(info)
  if nk ~= '' and redis.call('HGET', KEYS[3], nk) == ARGV[2] then redis.call('HDEL', KEYS[3], nk) end
end
redis.call('HDEL', KEYS[2], ARGV[2])
return out
"""
)

# One dead process at a time, atomically, so two survivors reaping at once report each
# member once. ARGV: hb prefix, dead pid, room key prefix, ':sockets', ':members'.
_REAP = (
    _LIB
    + """
local dead = ARGV[2]
if alive(dead) then return {} end
local out = {}
for _, room in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local sk, mk = ARGV[3] .. room .. ARGV[4], ARGV[3] .. room .. ARGV[5]
  local flat = redis.call('HGETALL', sk)
  local gone, affected, rest = {}, {}, {}
  for i = 1, #flat, 2 do
    local pid, mid = split(flat[i + 1])
    if pid == dead then
      gone[#gone + 1] = flat[i]
      affected[mid] = true
    else
      rest[#rest + 1] = {flat[i], pid, mid}
    end
  end
  if #gone > 0 then
    redis.call('HDEL', sk, unpack(gone))
    for m in pairs(affected) do
      local online, stale = false, {}
      for _, s in ipairs(rest) do
        if s[3] == m then
          if alive(s[2]) then online = true else stale[#stale + 1] = s[1] end
        end
      end
      if not online then
        if #stale > 0 then redis.call('HDEL', sk, unpack(stale)) end
        redis.call('HDEL', mk, m)
        out[#out + 1] = room
        out[#out + 1] = m
      end
    end
  end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[1], dead)
return out
"""
)


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
        self._join = client.register_script(_JOIN)
        self._live = client.register_script(_LIVE)
        self._sids = client.register_script(_SIDS)
        self._leave = client.register_script(_LEAVE)
        self._remove = client.register_script(_REMOVE_MEMBER)
        self._reap = client.register_script(_REAP)

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

    async def join(self, room_id: str, member: Member, sid: str, *, capacity: int | None) -> bool:
        first, _ = await self.join_named(room_id, member, sid, capacity=capacity, names=())
        return first

    @guarded
    async def join_named(
        self, room_id: str, member: Member, sid: str, *, capacity: int | None, names: Sequence[str]
    ) -> tuple[bool, int]:
        result = await self._join(
            keys=[
                self._sockets(room_id),
                self._members(room_id),
                self._proc_rooms(self.process_id),
                self._names(room_id),
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
                *names,
            ],
        )
        if int(result[0]) < 0:
            raise RoomFull()
        return bool(int(result[0])), int(result[1])

    @guarded
    async def leave(self, room_id: str, member_id: str, sid: str) -> bool:
        last = await self._leave(
            keys=[self._sockets(room_id), self._members(room_id), self._names(room_id)],
            args=[self.HEARTBEAT_PREFIX, sid, member_id],
        )
        return bool(last)

    @guarded
    async def remove_member(self, room_id: str, member_id: str) -> list[str]:
        sids = await self._remove(
            keys=[self._sockets(room_id), self._members(room_id), self._names(room_id)],
            args=[self.HEARTBEAT_PREFIX, member_id],
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
        await self.r.delete(self._sockets(room_id), self._members(room_id), self._names(room_id))

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
