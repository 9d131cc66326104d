"""Admissions (rule 24) and address marks (rule 26) on both stores, and across processes on Redis."""

from __future__ import annotations

import time

from moderation.returning import Mark
from server.services import open_admission_stores
from tests.stores.conftest import Stores

HOUR = 3_600_000


async def test_admission_is_remembered_until_revoked(stores: Stores) -> None:
    admissions, _ = await open_admission_stores(stores.mod)
    assert not await admissions.is_admitted("circle", "m1")
    await admissions.admit("circle", "m1", now_ms=1)
    await admissions.admit("circle", "m1", now_ms=2)  # twice is once
    assert await admissions.is_admitted("circle", "m1")
    assert not await admissions.is_admitted("other", "m1")
    assert await admissions.revoke("circle", "m1") is True
    assert await admissions.revoke("circle", "m1") is False
    assert not await admissions.is_admitted("circle", "m1")
    await admissions.admit("circle", "m2", now_ms=3)
    await admissions.drop_room("circle")
    assert not await admissions.is_admitted("circle", "m2")


async def test_admission_seen_by_another_process(redis_stores: Stores) -> None:
    from moderation.redis_store import RedisModStore

    mine, _ = await open_admission_stores(redis_stores.mod)
    assert isinstance(redis_stores.mod, RedisModStore)
    theirs, _ = await open_admission_stores(RedisModStore(redis_stores.mod.r))
    await mine.admit("circle", "m1", now_ms=1)
    assert await theirs.is_admitted("circle", "m1")


async def test_marks_expire_and_keep_the_longer(stores: Stores) -> None:
    _, marks = await open_admission_stores(stores.mod)
    now = time.time_ns() // 1_000_000
    await marks.put("circle", [("h1", Mark("m_a", now + HOUR, now + HOUR))])
    await marks.put("circle", [("h1", Mark("m_b", now + 2 * HOUR, now + 2 * HOUR))])
    await marks.put("circle", [("h1", Mark("m_c", now + 10, now + 10))])  # shorter: ignored
    found = await marks.find("circle", ["h1", "h2"], now_ms=now)
    assert [m.member_id for m in found] == ["m_b"]
    assert await marks.find("other", ["h1"], now_ms=now) == []
    assert await marks.find("circle", ["h1"], now_ms=now + 2 * HOUR) == []
    await marks.drop_room("circle")
    assert await marks.find("circle", ["h1"], now_ms=now) == []


async def test_marks_expire_in_redis(redis_stores: Stores) -> None:
    from moderation.redis_store import RedisModStore

    assert isinstance(redis_stores.mod, RedisModStore)
    _, marks = await open_admission_stores(redis_stores.mod)
    now = time.time_ns() // 1_000_000
    await marks.put("circle", [("h1", Mark("m_a", None, now + HOUR))])
    ttl = await redis_stores.mod.r.pttl("hearth:room:circle:returning:h1")
    assert 0 < ttl <= HOUR


async def test_keys_written_are_documented(redis_stores: Stores) -> None:
    from moderation.redis_store import RedisModStore
    from rooms.names import RoomNames
    from tests.stores.test_redis import documented_keys

    assert isinstance(redis_stores.mod, RedisModStore)
    client = redis_stores.mod.r
    await client.flushdb()
    admissions, marks = await open_admission_stores(redis_stores.mod)
    now = time.time_ns() // 1_000_000
    await admissions.admit("circle", "m1", now_ms=now)
    await marks.put("circle", [("h1", Mark("m_a", None, now + HOUR))])
    from rooms.models import Member, Role

    names = RoomNames(b"n" * 32).candidates("circle", "Calm River")
    river = Member("m1", "Calm River", Role.PEER)
    await redis_stores.presence.join_named("circle", river, "s1", capacity=None, names=names)
    patterns = documented_keys()
    written = sorted([k.decode() async for k in client.scan_iter(match="hearth:room:*")])
    written += sorted([k.decode() async for k in client.scan_iter(match="hearth:presence:room:*")])
    assert any(k.endswith(":names") for k in written) and any(k.endswith(":admitted") for k in written)
    assert [k for k in written if not any(p.match(k) for p in patterns)] == []
