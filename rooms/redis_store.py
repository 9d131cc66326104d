"""The shared rooms store: rooms, sealed history, data keys, member records and slow mode in Redis."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, ParamSpec, TypeVar

import orjson
import redis.asyncio as aioredis
import redis.exceptions as rex
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from rooms.errors import Conflict, Unavailable
from rooms.models import Admission, MemberRecord, Role, Room, RoomKey, SealedMessage, Unattended

P = ParamSpec("P")
T = TypeVar("T")

# Errors that mean "Redis cannot answer now", as opposed to a bug in a command.
_DOWN = (rex.ConnectionError, rex.TimeoutError, rex.BusyLoadingError, rex.ReadOnlyError, TimeoutError)


def key(*parts: str) -> str:
    """The one place key names are made: ``hearth:part:part``."""
    return "hearth:" + ":".join(parts)


def guarded(fn: Callable[P, Awaitable[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """Turn Redis being down or loading into Unavailable, so no caller sees a redis exception."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await fn(*args, **kwargs)
        except _DOWN as exc:
            raise Unavailable("The shared store (Redis) is unavailable; retry later.") from exc

    return wrapper


def connect(url: str) -> aioredis.Redis:
    """A pooled client for binary values that reconnects by itself after Redis comes back."""
    return aioredis.Redis.from_url(
        url,
        socket_timeout=2,
        socket_connect_timeout=2,
        health_check_interval=15,
        # One immediate retry on a broken connection: a pooled connection that died with a
        # restarted server is replaced without the caller noticing. Timeouts are not retried,
        # so a hung server costs one socket timeout, not several.
        retry=Retry(NoBackoff(), 1, supported_errors=(rex.ConnectionError,)),
        decode_responses=False,
    )


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def texts(values: Any) -> list[str]:
    """Members of a set or zset reply as strings (redis-py types these replies loosely)."""
    return [text(v) for v in values]


def score(value: bytes | str | float) -> int:
    return int(float(value))


# Lua is used wherever a read decides a write, so two processes cannot interleave.
_CREATE_IF_ABSENT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
return 1
"""

_HSET_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
"""

# Newest first, skipping expired and vanished messages; a scan, because expires_at is not
# monotonic in ts (a room's lifetime may have been shortened).
_LIVE_NEWEST_FIRST = """
local prefix, now, limit, max = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local skip = {}
for i = 5, #ARGV do skip[ARGV[i]] = true end
local out, offset = {}, 0
local batch = math.max(limit, 64)
while #out < limit do
  local ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '-inf', 'LIMIT', offset, batch)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    if not skip[id] then
      local f = redis.call('HMGET', prefix .. id, 'ts', 'expires_at', 'epoch', 'blob')
      if f[2] and tonumber(f[2]) > now then
        out[#out + 1] = {id, f[1], f[2], f[3], f[4]}
        if #out >= limit then break end
      end
    end
  end
  offset = offset + #ids
end
return out
"""

_DELETE_ROOM = """
local prefix = ARGV[2]
local ids = redis.call('ZRANGE', KEYS[3], 0, -1)
for i = 1, #ids, 500 do
  local batch = {}
  for j = i, math.min(i + 499, #ids) do batch[#batch + 1] = prefix .. ids[j] end
  redis.call('DEL', unpack(batch))
end
local existed = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[9], ARGV[1])
return existed
"""

_PUT_KEY = """
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[4])
  return {ARGV[2], ARGV[3]}
end
return {redis.call('HGET', KEYS[1], ARGV[1]), redis.call('ZSCORE', KEYS[2], ARGV[1])}
"""

_EXTEND_KEY = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[1])
return 1
"""

_REPLACE_WRAPPED = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

# One room per call: expired messages, keys past destroy_after (the crypto-shredding) and
# stale slow-mode slots; the room leaves the purge index once nothing in it can expire.
_PURGE_ROOM = """
local now, prefix = ARGV[1], ARGV[2]
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for i = 1, #ids, 500 do
  local batch, names = {}, {}
  for j = i, math.min(i + 499, #ids) do
    batch[#batch + 1] = ids[j]
    names[#names + 1] = prefix .. ids[j]
  end
  redis.call('DEL', unpack(names))
  redis.call('ZREM', KEYS[1], unpack(batch))
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local epochs = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
for i = 1, #epochs, 500 do
  redis.call('HDEL', KEYS[3], unpack(epochs, i, math.min(i + 499, #epochs)))
end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('HLEN', KEYS[3]) == 0
    and redis.call('ZCARD', KEYS[5]) == 0 then
  redis.call('SREM', KEYS[6], ARGV[3])
end
return {#ids, #epochs}
"""

_TAKE_SLOW_MODE = """
local next_ms = redis.call('ZSCORE', KEYS[1], ARGV[1])
local now = tonumber(ARGV[2])
if next_ms and tonumber(next_ms) > now then return tonumber(next_ms) - now end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[4])
return 0
"""


def _room_fields(room: Room) -> list[str | int]:
    return [
        "name",
        room.name,
        "topic",
        room.topic,
        "message_ttl_s",
        room.message_ttl_s,
        "slow_mode_s",
        room.slow_mode_s,
        "locked",
        int(room.locked),
        "capacity",
        "" if room.capacity is None else room.capacity,
        "guidelines",
        room.guidelines,
        "guidelines_version",
        room.guidelines_version,
        "min_identity_age_s",
        room.min_identity_age_s,
        "admission",
        room.admission.value,
        "unattended",
        room.unattended.value,
    ]


def _room(room_id: str, raw: dict[bytes, bytes]) -> Room:
    f = {text(k): text(v) for k, v in raw.items()}
    return Room(
        id=room_id,
        name=f["name"],
        topic=f["topic"],
        message_ttl_s=int(f["message_ttl_s"]),
        slow_mode_s=int(f["slow_mode_s"]),
        locked=f["locked"] == "1",
        capacity=None if f["capacity"] == "" else int(f["capacity"]),
        created_at=int(f["created_at"]),
        # Version 1.1 fields: rooms written before them read as the defaults.
        guidelines=f.get("guidelines", ""),
        guidelines_version=int(f.get("guidelines_version", "0")),
        min_identity_age_s=int(f.get("min_identity_age_s", "0")),
        admission=Admission(f.get("admission", "open")),
        unattended=Unattended(f.get("unattended", "open")),
    )


class RedisRoomStore:
    """Rooms in Redis; see docs for the key layout. Every key is made by ``key()``."""

    LIVE = key("purge-rooms")  # rooms holding anything that expires: what purge() visits
    ROOMS = key("rooms")  # zset: room id by created_at

    def __init__(self, client: aioredis.Redis) -> None:
        self.r = client
        self._create = client.register_script(_CREATE_IF_ABSENT)
        self._update = client.register_script(_HSET_IF_EXISTS)
        self._live = client.register_script(_LIVE_NEWEST_FIRST)
        self._delete_room = client.register_script(_DELETE_ROOM)
        self._put_key = client.register_script(_PUT_KEY)
        self._extend_key = client.register_script(_EXTEND_KEY)
        self._replace_wrapped = client.register_script(_REPLACE_WRAPPED)
        self._purge_room = client.register_script(_PURGE_ROOM)
        self._take_slow = client.register_script(_TAKE_SLOW_MODE)

    @staticmethod
    def _k(room_id: str, *parts: str) -> str:
        return key("room", room_id, *parts)

    def _msg_prefix(self, room_id: str) -> str:
        return self._k(room_id, "msg", "")

    @guarded
    async def ping(self) -> None:
        await self.r.ping()

    # rooms -----------------------------------------------------------------

    @guarded
    async def create_room(self, room: Room) -> None:
        created = await self._create(
            keys=[self._k(room.id), self.ROOMS],
            args=[room.created_at, room.id, "created_at", room.created_at, *_room_fields(room)],
        )
        if not created:
            raise Conflict(f"A room with id {room.id!r} already exists.")

    @guarded
    async def get_room(self, room_id: str) -> Room | None:
        raw = await self.r.hgetall(self._k(room_id))
        return _room(room_id, raw) if raw else None  # type: ignore[arg-type]

    @guarded
    async def list_rooms(self) -> list[Room]:
        ids = texts(await self.r.zrange(self.ROOMS, 0, -1))
        async with self.r.pipeline(transaction=False) as pipe:
            for room_id in ids:
                pipe.hgetall(self._k(room_id))
            rows = await pipe.execute()
        return [_room(room_id, raw) for room_id, raw in zip(ids, rows, strict=True) if raw]

    @guarded
    async def update_room(self, room: Room) -> None:
        await self._update(keys=[self._k(room.id)], args=_room_fields(room))

    @guarded
    async def delete_room(self, room_id: str) -> bool:
        k = functools.partial(self._k, room_id)
        existed = await self._delete_room(
            keys=[
                k(),
                self.ROOMS,
                k("msgs"),
                k("expiry"),
                k("keys"),
                k("key-destroy"),
                k("members"),
                k("slow"),
                self.LIVE,
            ],
            args=[room_id, self._msg_prefix(room_id)],
        )
        return bool(existed)

    # messages ----------------------------------------------------------------

    @guarded
    async def add_message(self, msg: SealedMessage) -> None:
        name = self._k(msg.room, "msg", msg.id)
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(name, mapping={"ts": msg.ts, "expires_at": msg.expires_at, "epoch": msg.epoch, "blob": msg.blob})
            # The body vanishes on its own at expires_at even if no purge ever runs.
            pipe.pexpireat(name, msg.expires_at)
            pipe.zadd(self._k(msg.room, "msgs"), {msg.id: msg.ts})
            pipe.zadd(self._k(msg.room, "expiry"), {msg.id: msg.expires_at})
            pipe.sadd(self.LIVE, msg.room)
            await pipe.execute()

    async def _newest_live(
        self, room_id: str, now_ms: int, limit: int, max_score: str, skip: Sequence[str] = ()
    ) -> list[SealedMessage]:
        if limit <= 0:
            return []
        rows: list[list[bytes]] = await self._live(
            keys=[self._k(room_id, "msgs")],
            args=[self._msg_prefix(room_id), now_ms, limit, max_score, *skip],
        )
        return [
            SealedMessage(room_id, text(id_), int(ts), int(exp), int(epoch), blob)
            for id_, ts, exp, epoch, blob in reversed(rows)
        ]

    @guarded
    async def history(self, room_id: str, *, now_ms: int, limit: int) -> list[SealedMessage]:
        return await self._newest_live(room_id, now_ms, limit, "+inf")

    @guarded
    async def get_message(self, room_id: str, message_id: str, *, now_ms: int) -> SealedMessage | None:
        ts, exp, epoch, blob = await self.r.hmget(
            self._k(room_id, "msg", message_id), ["ts", "expires_at", "epoch", "blob"]
        )
        if exp is None or int(exp) <= now_ms:
            return None
        return SealedMessage(room_id, message_id, int(ts), int(exp), int(epoch), bytes(blob))  # type: ignore[arg-type]

    @guarded
    async def messages_before(
        self, room_id: str, message: SealedMessage, *, now_ms: int, limit: int
    ) -> list[SealedMessage]:
        # Same ts sorts by id (bytes), as in the zset; those at or after the anchor are skipped.
        ties = await self.r.zrangebyscore(self._k(room_id, "msgs"), message.ts, message.ts)
        anchor = message.id.encode()
        skip = [text(t) for t in ties if bytes(t) >= anchor]  # type: ignore[arg-type]
        return await self._newest_live(room_id, now_ms, limit, str(message.ts), skip)

    @guarded
    async def delete_message(self, room_id: str, message_id: str) -> bool:
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.delete(self._k(room_id, "msg", message_id))
            pipe.zrem(self._k(room_id, "msgs"), message_id)
            pipe.zrem(self._k(room_id, "expiry"), message_id)
            deleted, indexed, _ = await pipe.execute()
        # The body may already have expired by itself while the index still lists it.
        return bool(deleted or indexed)

    # data keys -----------------------------------------------------------------

    @guarded
    async def get_key(self, room_id: str, epoch: int) -> RoomKey | None:
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hget(self._k(room_id, "keys"), str(epoch))
            pipe.zscore(self._k(room_id, "key-destroy"), str(epoch))
            wrapped, destroy_after = await pipe.execute()
        if wrapped is None or destroy_after is None:
            return None
        return RoomKey(room_id, epoch, bytes(wrapped), score(destroy_after))

    @guarded
    async def put_key(self, key: RoomKey) -> RoomKey:
        wrapped, destroy_after = await self._put_key(
            keys=[self._k(key.room, "keys"), self._k(key.room, "key-destroy"), self.LIVE],
            args=[str(key.epoch), key.wrapped, key.destroy_after, key.room],
        )
        return RoomKey(key.room, key.epoch, bytes(wrapped), score(destroy_after))

    @guarded
    async def extend_key(self, room_id: str, epoch: int, destroy_after: int) -> bool:
        found = await self._extend_key(
            keys=[self._k(room_id, "keys"), self._k(room_id, "key-destroy")], args=[str(epoch), destroy_after]
        )
        return bool(found)

    @guarded
    async def all_keys(self) -> list[RoomKey]:
        rooms = sorted(text(r) for r in await self.r.smembers(self.LIVE))
        async with self.r.pipeline(transaction=False) as pipe:
            for room_id in rooms:
                pipe.hgetall(self._k(room_id, "keys"))
                pipe.zrange(self._k(room_id, "key-destroy"), 0, -1, withscores=True)
            replies = await pipe.execute()
        out: list[RoomKey] = []
        for i, room_id in enumerate(rooms):
            wrapped: dict[bytes, bytes] = replies[2 * i]
            destroy = {text(epoch): score(s) for epoch, s in replies[2 * i + 1]}
            for epoch_raw, blob in wrapped.items():
                epoch = text(epoch_raw)
                if epoch in destroy:
                    out.append(RoomKey(room_id, int(epoch), bytes(blob), destroy[epoch]))
        return out

    @guarded
    async def replace_wrapped(self, room_id: str, epoch: int, wrapped: bytes) -> None:
        await self._replace_wrapped(keys=[self._k(room_id, "keys")], args=[str(epoch), wrapped])

    @guarded
    async def purge(self, *, now_ms: int) -> tuple[int, int]:
        rooms = [text(r) for r in await self.r.smembers(self.LIVE)]
        async with self.r.pipeline(transaction=False) as pipe:
            for room_id in rooms:
                k = functools.partial(self._k, room_id)
                await self._purge_room(
                    keys=[k("msgs"), k("expiry"), k("keys"), k("key-destroy"), k("slow"), self.LIVE],
                    args=[now_ms, self._msg_prefix(room_id), room_id],
                    client=pipe,
                )
            counts: list[list[int]] = await pipe.execute()
        return sum(c[0] for c in counts), sum(c[1] for c in counts)

    # member records ----------------------------------------------------------------

    @guarded
    async def record_member(self, record: MemberRecord) -> None:
        await self.r.hset(
            self._k(record.room_id, "members"),
            record.member_id,
            orjson.dumps([int(record.role), record.staff_name]),
        )

    @guarded
    async def get_member(self, room_id: str, member_id: str) -> MemberRecord | None:
        raw = await self.r.hget(self._k(room_id, "members"), member_id)
        if raw is None:
            return None
        role, staff_name = orjson.loads(raw)
        return MemberRecord(room_id, member_id, Role(int(role)), staff_name)

    # slow mode -----------------------------------------------------------------

    @guarded
    async def take_slow_mode(self, room_id: str, member_id: str, *, now_ms: int, window_ms: int) -> int:
        # Not SET NX PX: the window is measured on the caller's clock (now_ms), which tests move by
        # hand; a zset of next-allowed times per room is compared in Lua and pruned by purge().
        wait = await self._take_slow(
            keys=[self._k(room_id, "slow"), self.LIVE], args=[member_id, now_ms, now_ms + window_ms, room_id]
        )
        return int(wait)

    # instance secrets ----------------------------------------------------------------

    @guarded
    async def get_meta(self, name: str) -> bytes | None:
        value = await self.r.get(key("meta", name))
        return None if value is None else bytes(value)  # type: ignore[arg-type]

    @guarded
    async def put_meta_if_absent(self, name: str, value: bytes) -> bytes:
        # SET NX GET: one command that stores unless present and tells which value won.
        old: Any = await self.r.set(key("meta", name), value, nx=True, get=True)
        return value if old is None else bytes(old)

    @guarded
    async def set_meta(self, name: str, value: bytes) -> None:
        await self.r.set(key("meta", name), value)

    async def aclose(self) -> None:
        """The shared client is closed by its owner (server.redis_backend)."""
