"""The shared rooms store: rooms, sealed history, data keys, member records and slow mode in Redis."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import orjson
import redis.asyncio as aioredis

from rooms.errors import Conflict
from rooms.models import Admission, MemberRecord, Role, Room, RoomKey, SealedMessage, Unattended
from rooms.redis_common import guarded, key, score, script, text, texts


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


# Entries kept in each room's feed (a stream of message ids each hosting process reads from where
# it left off): enough to replay a busy room's minute of outage; older entries are trimmed.
FEED_LENGTH = 10_000


class RedisRoomStore:
    """Rooms in Redis; the key layout is in docs/ARCHITECTURE.md. Every key is made by ``key()``."""

    LIVE = key("purge-rooms")  # rooms holding anything that expires: what purge() visits
    ROOMS = key("rooms")  # zset: room id by created_at

    def __init__(self, client: aioredis.Redis) -> None:
        self.r = client
        # Lua (rooms/lua/) wherever a read decides a write, so two processes cannot interleave.
        self._create = script(client, "rooms", "create_room")
        self._update = script(client, "rooms", "hset_if_exists")
        self._live = script(client, "rooms", "live_newest_first")
        self._add_message = script(client, "rooms", "add_message")
        self._delete_room = script(client, "rooms", "delete_room")
        self._put_key = script(client, "rooms", "put_key")
        self._extend_key = script(client, "rooms", "extend_key")
        self._replace_wrapped = script(client, "rooms", "replace_wrapped")
        self._purge_room = script(client, "rooms", "purge_room")
        self._take_slow = script(client, "rooms", "take_slow_mode")

    @staticmethod
    def _k(room_id: str, *parts: str) -> str:
        return key("room", room_id, *parts)

    def _msg_prefix(self, room_id: str) -> str:
        return self._k(room_id, "msg", "")

    def _reactions_prefix(self, room_id: str) -> str:
        return self._k(room_id, "reactions", "")

    @guarded
    async def ping(self) -> None:
        # A write: a Redis at maxmemory (noeviction) answers PING but refuses writes.
        await self.r.set(key("healthz"), b"ok", px=60_000)

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
                k("feed"),
                k("sent"),
                k("sent-expiry"),
                k("feed-expiry"),
            ],
            args=[room_id, self._msg_prefix(room_id), self._reactions_prefix(room_id)],
        )
        return bool(existed)

    # messages ----------------------------------------------------------------

    @guarded
    async def add_message(self, msg: SealedMessage, *, dedupe: str | None = None) -> str | None:
        k = functools.partial(self._k, msg.room)
        existing = await self._add_message(
            keys=[
                k("msg", msg.id),
                k("msgs"),
                k("expiry"),
                self.LIVE,
                k("feed"),
                k("sent"),
                k("sent-expiry"),
                k("feed-expiry"),
            ],
            args=[msg.id, msg.ts, msg.expires_at, msg.epoch, msg.blob, msg.room, FEED_LENGTH, dedupe or ""],
        )
        return None if existing is None else text(existing)

    @guarded
    async def find_sent(self, room_id: str, dedupe: str, *, now_ms: int) -> str | None:
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hget(self._k(room_id, "sent"), dedupe)
            pipe.zscore(self._k(room_id, "sent-expiry"), dedupe)
            message_id, until = await pipe.execute()
        if message_id is None or until is None or score(until) <= now_ms:
            return None
        return text(message_id)

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
            pipe.delete(self._k(room_id, "reactions", message_id))
            deleted, indexed, _, _ = await pipe.execute()
        # The body may already have expired by itself while the index still lists it.
        return bool(deleted or indexed)

    # reactions: one hash per message, field "<kind>:<tag>", expiring with the message ------

    @guarded
    async def set_reaction(
        self, room_id: str, message_id: str, kind: str, tag: str, *, on: bool, expires_at: int
    ) -> None:
        name = self._k(room_id, "reactions", message_id)
        if not on:
            await self.r.hdel(name, f"{kind}:{tag}")
            return
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(name, f"{kind}:{tag}", 1)
            pipe.pexpireat(name, expires_at)
            await pipe.execute()

    @guarded
    async def reactions(self, room_id: str, message_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        if not message_ids:
            return {}
        async with self.r.pipeline(transaction=False) as pipe:
            for message_id in message_ids:
                pipe.hkeys(self._k(room_id, "reactions", message_id))
            rows: list[list[bytes]] = await pipe.execute()
        found: dict[str, list[tuple[str, str]]] = {}
        for message_id, fields in zip(message_ids, rows, strict=True):
            for field in texts(fields):
                kind, _, tag = field.partition(":")
                found.setdefault(message_id, []).append((kind, tag))
        return found

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
                    keys=[
                        k("msgs"),
                        k("expiry"),
                        k("keys"),
                        k("key-destroy"),
                        k("slow"),
                        self.LIVE,
                        k("sent"),
                        k("sent-expiry"),
                        k("feed"),
                        k("feed-expiry"),
                    ],
                    args=[now_ms, self._msg_prefix(room_id), room_id, self._reactions_prefix(room_id)],
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
