"""Reactions in both stores: toggling, reading back, and going with their message or room."""

from __future__ import annotations

from rooms.models import Room
from rooms.redis_store import RedisRoomStore
from tests.stores.conftest import Stores
from tests.stores.test_contract import msg
from tests.stores.test_redis import documented_keys


async def test_reactions_toggle_and_read_back(stores: Stores, now: int) -> None:
    rooms = stores.rooms
    await rooms.create_room(Room("circle", "Circle", created_at=now))
    m1, m2 = msg("circle", 1, now), msg("circle", 2, now + 1)
    await rooms.add_message(m1)
    await rooms.add_message(m2)
    assert await rooms.reactions("circle", [m1.id, m2.id]) == {}
    await rooms.set_reaction("circle", m1.id, "hear_you", "t1", on=True, expires_at=m1.expires_at)
    await rooms.set_reaction("circle", m1.id, "hear_you", "t1", on=True, expires_at=m1.expires_at)  # idempotent
    await rooms.set_reaction("circle", m1.id, "hear_you", "t2", on=True, expires_at=m1.expires_at)
    await rooms.set_reaction("circle", m1.id, "me_too", "t2", on=True, expires_at=m1.expires_at)
    await rooms.set_reaction("circle", m2.id, "strength", "t1", on=True, expires_at=m2.expires_at)
    got = await rooms.reactions("circle", [m1.id, m2.id, "missing"])
    assert sorted(got[m1.id]) == [("hear_you", "t1"), ("hear_you", "t2"), ("me_too", "t2")]
    assert got[m2.id] == [("strength", "t1")]
    await rooms.set_reaction("circle", m1.id, "hear_you", "t1", on=False, expires_at=m1.expires_at)
    assert sorted((await rooms.reactions("circle", [m1.id]))[m1.id]) == [("hear_you", "t2"), ("me_too", "t2")]


async def test_reactions_go_with_their_message_their_room_and_time(stores: Stores, now: int) -> None:
    rooms = stores.rooms
    await rooms.create_room(Room("circle", "Circle", created_at=now))
    short = msg("circle", 1, now, ttl=60_000)
    kept, deleted = msg("circle", 2, now), msg("circle", 3, now)
    for m in (short, kept, deleted):
        await rooms.add_message(m)
        await rooms.set_reaction("circle", m.id, "thank_you", "t1", on=True, expires_at=m.expires_at)
    assert await rooms.delete_message("circle", deleted.id)
    await rooms.purge(now_ms=now + 60_000)
    got = await rooms.reactions("circle", [short.id, kept.id, deleted.id])
    assert list(got) == [kept.id]
    if isinstance(rooms, RedisRoomStore):
        written = [k.decode() async for k in rooms.r.scan_iter(match="*reactions*")]
        assert written and all(any(p.match(k) for p in documented_keys()) for k in written)
    await rooms.delete_room("circle")
    assert await rooms.reactions("circle", [short.id, kept.id, deleted.id]) == {}
