"""The shared moderation store: mutes, bans, flags, audit and staff in Redis."""

from __future__ import annotations

from typing import Any

import orjson
import redis.asyncio as aioredis

from moderation.models import AuditEntry, Ban, FlagStatus, Mute, Resolution, ResolutionAction, StaffAccount, StoredFlag
from rooms.errors import Conflict
from rooms.models import Role
from rooms.redis_common import guarded, key, script, text, texts

# Mute and ban keys outlive ``until`` by this much: the store compares ``until`` with the
# caller's clock, and the margin keeps a Redis clock running ahead of ours from ending them early.
EXPIRY_GRACE_MS = 60_000


def _resolution_json(res: Resolution | None) -> bytes | None:
    if res is None:
        return None
    return orjson.dumps({"action": str(res.action), "by": res.by, "at": res.at, "note": res.note})


def _resolution(raw: bytes) -> Resolution:
    data = orjson.loads(raw)
    return Resolution(action=ResolutionAction(data["action"]), by=data["by"], at=int(data["at"]), note=data.get("note"))


def _decoded(raw: dict[Any, Any]) -> dict[str, Any]:
    return {text(k): v for k, v in raw.items()}


def _flag(raw: dict[Any, Any]) -> StoredFlag:
    f = _decoded(raw)
    res = f.get("resolution")
    return StoredFlag(
        id=text(f["id"]),
        room=text(f["room"]),
        message_id=None if f.get("message_id") is None else text(f["message_id"]),
        author_id=None if f.get("author_id") is None else text(f["author_id"]),
        reporter=None if f.get("reporter") is None else text(f["reporter"]),
        reason=text(f["reason"]),
        created_at=int(f["created_at"]),
        status=FlagStatus(text(f["status"])),
        resolution=None if res is None else _resolution(bytes(res)),
        snapshot=None if f.get("snapshot") is None else bytes(f["snapshot"]),
        snapshot_key=None if f.get("snapshot_key") is None else bytes(f["snapshot_key"]),
        purge_after=None if f.get("purge_after") is None else int(f["purge_after"]),
    )


def _staff(raw: dict[Any, Any]) -> StaffAccount:
    f = {k: text(v) for k, v in _decoded(raw).items()}
    return StaffAccount(
        id=f["id"],
        name=f["name"],
        role=Role(int(f["role"])),
        password_hash=f["password_hash"],
        created_at=int(f["created_at"]),
    )


def _restriction(raw: bytes | str | None, now_ms: int) -> tuple[int | None, str | None] | None:
    if raw is None:
        return None
    until, reason = orjson.loads(raw)
    if until is not None and until <= now_ms:
        return None
    return until, reason


class RedisModStore:
    """Moderation state in Redis; mutes and bans expire by themselves (PXAT)."""

    FLAGS = key("flags", "all")  # zset: flag id by created_at
    FLAG_PURGE = key("flags", "purge-after")  # zset: flag id by purge_after
    AUDIT = key("audit")  # stream, all entries
    STAFF_NAMES = key("staff-names")  # zset, score 0: names in byte order

    def __init__(self, client: aioredis.Redis) -> None:
        self.r = client
        # Lua from moderation/lua/ (one generic script is shared with rooms).
        self._add_flag = script(client, "moderation", "add_flag")
        self._resolve = script(client, "moderation", "resolve_flag")
        self._purge_flags = script(client, "moderation", "purge_flags")
        self._hset_if_exists = script(client, "rooms", "hset_if_exists")
        self._delete_room = script(client, "moderation", "delete_room")
        self._add_staff = script(client, "moderation", "add_staff")
        self._remove_staff = script(client, "moderation", "remove_staff")

    # mutes and bans ------------------------------------------------------------

    async def _restrict(self, kind: str, room: str, member_id: str, until: int | None, reason: str | None) -> None:
        async with self.r.pipeline(transaction=True) as pipe:
            name = key("room", room, kind, member_id)
            value = orjson.dumps([until, reason])
            if until is None:
                pipe.set(name, value)
            else:
                pipe.set(name, value, pxat=max(1, until + EXPIRY_GRACE_MS))
            pipe.sadd(key("room", room, kind + "s"), member_id)
            await pipe.execute()

    @guarded
    async def set_mute(self, mute: Mute) -> None:
        await self._restrict("mute", mute.room, mute.member_id, mute.until, mute.reason)

    @guarded
    async def clear_mute(self, room_id: str, member_id: str) -> bool:
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.delete(key("room", room_id, "mute", member_id))
            pipe.srem(key("room", room_id, "mutes"), member_id)
            deleted, _ = await pipe.execute()
        return bool(deleted)

    @guarded
    async def get_mute(self, room_id: str, member_id: str, *, now_ms: int) -> Mute | None:
        found = _restriction(await self.r.get(key("room", room_id, "mute", member_id)), now_ms)
        return None if found is None else Mute(room_id, member_id, *found)

    @guarded
    async def set_ban(self, ban: Ban) -> None:
        await self._restrict("ban", ban.room, ban.member_id, ban.until, ban.reason)

    @guarded
    async def get_ban(self, room_id: str, member_id: str, *, now_ms: int) -> Ban | None:
        found = _restriction(await self.r.get(key("room", room_id, "ban", member_id)), now_ms)
        return None if found is None else Ban(room_id, member_id, *found)

    # flags ---------------------------------------------------------------------

    @guarded
    async def add_flag(self, flag: StoredFlag) -> str:
        fields: list[str | int | bytes] = [
            "id",
            flag.id,
            "room",
            flag.room,
            "reason",
            flag.reason,
            "created_at",
            flag.created_at,
            "status",
            flag.status,
        ]
        optional: dict[str, str | int | bytes | None] = {
            "message_id": flag.message_id,
            "author_id": flag.author_id,
            "reporter": flag.reporter,
            "resolution": _resolution_json(flag.resolution),
            "snapshot": flag.snapshot,
            "snapshot_key": flag.snapshot_key,
            "purge_after": flag.purge_after,
        }
        for name, value in optional.items():
            if value is not None:  # an absent field is None
                fields += [name, value]
        flag_id = await self._add_flag(
            keys=[
                key("room", flag.room, "flag-index"),
                key("flag", flag.id),
                self.FLAGS,
                key("flags", "status", flag.status),
                self.FLAG_PURGE,
            ],
            args=[
                # Only a member's flag of a message is deduplicated; any other flag has a field of its own.
                orjson.dumps([flag.message_id, flag.reporter])
                if flag.message_id is not None and flag.reporter is not None
                else orjson.dumps(["", flag.id]),
                flag.id,
                flag.created_at,
                "" if flag.purge_after is None else flag.purge_after,
                *fields,
            ],
        )
        return text(flag_id)

    @guarded
    async def get_flag(self, flag_id: str) -> StoredFlag | None:
        raw = await self.r.hgetall(key("flag", flag_id))
        return _flag(raw) if raw else None

    @guarded
    async def list_flags(self, status: FlagStatus | None, *, limit: int) -> list[StoredFlag]:
        if limit <= 0:
            return []
        index = self.FLAGS if status is None else key("flags", "status", status)
        ids = texts(await self.r.zrange(index, 0, limit - 1))
        async with self.r.pipeline(transaction=False) as pipe:
            for flag_id in ids:
                pipe.hgetall(key("flag", flag_id))
            rows = await pipe.execute()
        return [_flag(raw) for raw in rows if raw]

    @guarded
    async def resolve_flag(self, flag_id: str, status: FlagStatus, resolution: Resolution, purge_after: int) -> bool:
        done = await self._resolve(
            keys=[
                key("flag", flag_id),
                key("flags", "status", FlagStatus.OPEN),
                key("flags", "status", status),
                self.FLAG_PURGE,
            ],
            args=[flag_id, status, _resolution_json(resolution) or b"", purge_after, FlagStatus.OPEN],
        )
        return bool(done)

    @guarded
    async def purge_flags(self, *, now_ms: int) -> int:
        return int(await self._purge_flags(keys=[self.FLAG_PURGE], args=[now_ms, key("flag", "")]))

    @guarded
    async def all_flag_keys(self) -> list[tuple[str, bytes]]:
        ids = texts(await self.r.zrange(self.FLAGS, 0, -1))
        async with self.r.pipeline(transaction=False) as pipe:
            for flag_id in ids:
                pipe.hget(key("flag", flag_id), "snapshot_key")
            wrapped = await pipe.execute()
        return [(flag_id, bytes(w)) for flag_id, w in zip(ids, wrapped, strict=True) if w is not None]

    @guarded
    async def replace_flag_key(self, flag_id: str, wrapped: bytes) -> None:
        await self._hset_if_exists(keys=[key("flag", flag_id)], args=["snapshot_key", wrapped])

    @guarded
    async def delete_room(self, room_id: str) -> None:
        await self._delete_room(
            keys=[
                key("room", room_id, "flag-index"),
                key("room", room_id, "mutes"),
                key("room", room_id, "bans"),
                self.FLAGS,
                self.FLAG_PURGE,
            ],
            args=[
                key("flag", ""),
                key("flags", "status", ""),
                key("room", room_id, "mute", ""),
                key("room", room_id, "ban", ""),
            ],
        )

    # audit ---------------------------------------------------------------------

    @guarded
    async def append_audit(self, entry: AuditEntry) -> None:
        fields: dict[str, str | int] = {"ts": entry.ts, "actor": entry.actor, "action": entry.action}
        for name, value in (("room", entry.room), ("target", entry.target), ("reason", entry.reason)):
            if value is not None:
                fields[name] = value
        # Both streams in one transaction, so the per-room view never disagrees with the whole log.
        async with self.r.pipeline(transaction=True) as pipe:
            pipe.xadd(self.AUDIT, fields)  # type: ignore[arg-type]
            if entry.room is not None:
                pipe.xadd(key("audit", "room", entry.room), fields)  # type: ignore[arg-type]
            await pipe.execute()

    @guarded
    async def list_audit(self, room_id: str | None, *, limit: int) -> list[AuditEntry]:
        if limit <= 0:
            return []
        stream = self.AUDIT if room_id is None else key("audit", "room", room_id)
        out: list[AuditEntry] = []
        entries: Any = await self.r.xrevrange(stream, count=limit)
        for _, raw in entries:
            f = {text(k): text(v) for k, v in raw.items()}
            out.append(
                AuditEntry(int(f["ts"]), f["actor"], f["action"], f.get("room"), f.get("target"), f.get("reason"))
            )
        return out

    # staff ---------------------------------------------------------------------

    @guarded
    async def add_staff(self, account: StaffAccount) -> None:
        added = await self._add_staff(
            keys=[key("staff", account.name), key("staff-id", account.id), self.STAFF_NAMES],
            args=[
                account.name,
                "name",
                account.name,
                "id",
                account.id,
                "role",
                int(account.role),
                "password_hash",
                account.password_hash,
                "created_at",
                account.created_at,
            ],
        )
        if not added:
            raise Conflict(f"A staff account named {account.name!r} already exists.")

    @guarded
    async def get_staff(self, name: str) -> StaffAccount | None:
        raw = await self.r.hgetall(key("staff", name))
        return _staff(raw) if raw else None

    @guarded
    async def get_staff_by_id(self, staff_id: str) -> StaffAccount | None:
        name = await self.r.get(key("staff-id", staff_id))
        if name is None:
            return None
        raw = await self.r.hgetall(key("staff", text(name)))
        account = _staff(raw) if raw else None
        # A name reused after a removal belongs to another account.
        return account if account is not None and account.id == staff_id else None

    @guarded
    async def list_staff(self) -> list[StaffAccount]:
        names = texts(await self.r.zrange(self.STAFF_NAMES, 0, -1))
        async with self.r.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(key("staff", name))
            rows = await pipe.execute()
        return [_staff(raw) for raw in rows if raw]

    @guarded
    async def remove_staff(self, name: str) -> StaffAccount | None:
        flat: list[bytes] = await self._remove_staff(
            keys=[key("staff", name), self.STAFF_NAMES], args=[name, key("staff-id", "")]
        )
        if not flat:
            return None
        return _staff(dict(zip(flat[::2], flat[1::2], strict=True)))

    @guarded
    async def set_staff_password(self, name: str, password_hash: str) -> bool:
        done = await self._hset_if_exists(keys=[key("staff", name)], args=["password_hash", password_hash])
        return bool(done)
