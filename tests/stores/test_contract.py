"""One contract for every store: the same test bodies run on SQLite and on a real Redis."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from moderation.models import AuditEntry, Ban, Mute, Resolution, StaffAccount, StoredFlag
from rooms.errors import Conflict, RoomFull
from rooms.models import Member, MemberRecord, Role, Room, RoomKey, SealedMessage
from tests.stores.conftest import Stores

MINUTE = 60_000
HOUR = 3_600_000


def msg(room: str, n: int, ts: int, ttl: int = HOUR, epoch: int = 7) -> SealedMessage:
    return SealedMessage(room, f"m{n:04d}", ts, ts + ttl, epoch, b"\x00sealed\xff" + bytes([n % 256]))


def flag(fid: str, now: int, *, message: str = "m1", reporter: str = "rep", room: str = "circle") -> StoredFlag:
    return StoredFlag(
        id=fid,
        room=room,
        message_id=message,
        author_id="author",
        reporter=reporter,
        reason="worried",
        created_at=now,
        status="open",
        resolution=None,
        snapshot=b"\x01snap\x00",
        snapshot_key=b"\x02key\x00",
    )


def peer(member_id: str) -> Member:
    return Member(member_id, f"Peer {member_id}", Role.PEER)


def staff(member_id: str) -> Member:
    return Member(member_id, f"Staff {member_id}", Role.FACILITATOR)


# rooms ---------------------------------------------------------------------


async def test_rooms_create_get_list_update_delete(stores: Stores, now: int) -> None:
    s = stores.rooms
    b = Room("beta", "Beta", created_at=now)
    a = Room("alpha", "Alpha", topic="grief", message_ttl_s=600, slow_mode_s=5, capacity=12, created_at=now)
    early = Room("zeta", "Zeta", created_at=now - 1)
    for room in (b, a, early):
        await s.create_room(room)
    with pytest.raises(Conflict):
        await s.create_room(Room("alpha", "Another", created_at=now + 5))

    assert await s.get_room("alpha") == a
    assert await s.get_room("nope") is None
    assert [r.id for r in await s.list_rooms()] == ["zeta", "alpha", "beta"]  # created_at, then id

    changed = replace(a, name="Alpha 2", topic="", locked=True, capacity=None, slow_mode_s=0)
    await s.update_room(changed)
    assert await s.get_room("alpha") == changed
    await s.update_room(Room("ghost", "Ghost", created_at=now))  # updating a missing room creates nothing
    assert await s.get_room("ghost") is None

    assert await s.delete_room("alpha") is True
    assert await s.delete_room("alpha") is False
    assert await s.get_room("alpha") is None
    assert [r.id for r in await s.list_rooms()] == ["zeta", "beta"]


async def test_concurrent_room_creation_has_one_winner(stores: Stores, now: int) -> None:
    results = await asyncio.gather(
        *(stores.rooms.create_room(Room("same", f"Try {i}", created_at=now)) for i in range(5)),
        return_exceptions=True,
    )
    assert sum(r is None for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 4


async def test_delete_room_destroys_messages_keys_members_and_slow_mode(stores: Stores, now: int) -> None:
    s = stores.rooms
    for room_id in ("doomed", "other"):
        await s.create_room(Room(room_id, room_id.title(), created_at=now))
        await s.add_message(msg(room_id, 1, now))
        await s.put_key(RoomKey(room_id, 7, b"wrapped-" + room_id.encode(), now + HOUR))
        await s.record_member(MemberRecord(room_id, "m1", Role.PEER))
        assert await s.take_slow_mode(room_id, "m1", now_ms=now, window_ms=MINUTE) == 0

    assert await s.delete_room("doomed") is True
    assert await s.history("doomed", now_ms=now, limit=10) == []
    assert await s.get_message("doomed", "m0001", now_ms=now) is None
    assert await s.get_key("doomed", 7) is None
    assert await s.get_member("doomed", "m1") is None
    assert await s.take_slow_mode("doomed", "m1", now_ms=now + 1, window_ms=MINUTE) == 0
    assert [k.room for k in await s.all_keys()] == ["other"]
    # the other room is untouched
    assert [m.id for m in await s.history("other", now_ms=now, limit=10)] == ["m0001"]
    assert await s.get_member("other", "m1") == MemberRecord("other", "m1", Role.PEER)
    assert await s.take_slow_mode("other", "m1", now_ms=now + 1, window_ms=MINUTE) == MINUTE - 1


# messages ------------------------------------------------------------------


async def test_history_is_oldest_first_newest_limit(stores: Stores, now: int) -> None:
    s = stores.rooms
    for n in range(5):
        await s.add_message(msg("circle", n, now + n))
    await s.add_message(msg("elsewhere", 99, now))
    got = await s.history("circle", now_ms=now + 10, limit=3)
    assert [m.id for m in got] == ["m0002", "m0003", "m0004"]
    assert got[0] == msg("circle", 2, now + 2)  # blob and times round-trip as bytes and ints
    everything = await s.history("circle", now_ms=now + 10, limit=100)
    assert [m.id for m in everything] == [f"m{n:04d}" for n in range(5)]
    assert await s.history("circle", now_ms=now, limit=0) == []
    assert await s.history("empty", now_ms=now, limit=10) == []


async def test_history_orders_equal_times_by_id(stores: Stores, now: int) -> None:
    for n in (3, 1, 2):
        await stores.rooms.add_message(msg("circle", n, now))
    got = await stores.rooms.history("circle", now_ms=now, limit=2)
    assert [m.id for m in got] == ["m0002", "m0003"]


async def test_history_never_returns_an_expired_message(stores: Stores, now: int) -> None:
    s = stores.rooms
    await s.add_message(msg("circle", 1, now, ttl=HOUR))
    await s.add_message(msg("circle", 2, now + 1, ttl=MINUTE))  # newer, but a shorter lifetime
    await s.add_message(msg("circle", 3, now + 2, ttl=HOUR))
    live = await s.history("circle", now_ms=now + MINUTE, limit=10)
    assert [m.id for m in live] == ["m0001", "m0002", "m0003"]

    expired_at = now + 1 + MINUTE
    just_before = await s.history("circle", now_ms=expired_at - 1, limit=10)
    assert [m.id for m in just_before] == ["m0001", "m0002", "m0003"]
    assert [m.id for m in await s.history("circle", now_ms=expired_at, limit=10)] == ["m0001", "m0003"]
    # the limit counts live messages only
    assert [m.id for m in await s.history("circle", now_ms=expired_at, limit=2)] == ["m0001", "m0003"]
    short = msg("circle", 2, now + 1, ttl=MINUTE)
    assert await s.get_message("circle", "m0002", now_ms=expired_at - 1) == short
    assert await s.get_message("circle", "m0002", now_ms=expired_at) is None
    assert await s.get_message("circle", "nope", now_ms=now) is None
    assert await s.get_message("other", "m0001", now_ms=now) is None


async def test_messages_before(stores: Stores, now: int) -> None:
    s = stores.rooms
    await s.add_message(msg("circle", 1, now))
    await s.add_message(msg("circle", 2, now + 1, ttl=MINUTE))
    await s.add_message(msg("circle", 3, now + 2))
    await s.add_message(msg("circle", 4, now + 3))
    await s.add_message(msg("circle", 5, now + 3))  # same ts as 4, later id
    await s.add_message(msg("circle", 6, now + 4))
    anchor = msg("circle", 5, now + 3)
    assert [m.id for m in await s.messages_before("circle", anchor, now_ms=now, limit=10)] == [
        "m0001",
        "m0002",
        "m0003",
        "m0004",
    ]
    two = await s.messages_before("circle", anchor, now_ms=now, limit=2)
    assert [m.id for m in two] == ["m0003", "m0004"]
    later = now + 1 + MINUTE
    assert [m.id for m in await s.messages_before("circle", anchor, now_ms=later, limit=3)] == [
        "m0001",
        "m0003",
        "m0004",
    ]
    first = msg("circle", 1, now)
    assert await s.messages_before("circle", first, now_ms=now, limit=10) == []


async def test_delete_message(stores: Stores, now: int) -> None:
    s = stores.rooms
    await s.add_message(msg("circle", 1, now))
    await s.add_message(msg("circle", 2, now + 1))
    assert await s.delete_message("circle", "m0001") is True
    assert await s.delete_message("circle", "m0001") is False
    assert await s.delete_message("circle", "never") is False
    assert await s.get_message("circle", "m0001", now_ms=now) is None
    assert [m.id for m in await s.history("circle", now_ms=now, limit=10)] == ["m0002"]
    assert await s.purge(now_ms=now + 2 * HOUR) == (1, 0)  # the deleted one is not counted again


async def test_purge_deletes_expired_messages_and_counts_them(stores: Stores, now: int) -> None:
    s = stores.rooms
    await s.add_message(msg("a", 1, now, ttl=MINUTE))
    await s.add_message(msg("a", 2, now, ttl=HOUR))
    await s.add_message(msg("b", 3, now, ttl=MINUTE))
    assert await s.purge(now_ms=now + MINUTE - 1) == (0, 0)
    assert await s.purge(now_ms=now + MINUTE) == (2, 0)  # at exactly expires_at
    assert await s.purge(now_ms=now + MINUTE) == (0, 0)
    assert [m.id for m in await s.history("a", now_ms=now, limit=10)] == ["m0002"]
    assert await s.history("b", now_ms=now, limit=10) == []


# data keys -----------------------------------------------------------------


async def test_keys_put_if_absent_get_extend_replace_all(stores: Stores, now: int) -> None:
    s = stores.rooms
    first = RoomKey("circle", 5, b"\x00wrapped-1\xff", now + HOUR)
    assert await s.put_key(first) == first
    assert await s.put_key(RoomKey("circle", 5, b"other", now + 2 * HOUR)) == first
    assert await s.get_key("circle", 5) == first
    assert await s.get_key("circle", 6) is None

    assert await s.extend_key("circle", 5, now + 2 * HOUR) is True
    assert await s.extend_key("circle", 5, now + MINUTE) is True  # never lowers
    assert (await s.get_key("circle", 5)) == replace(first, destroy_after=now + 2 * HOUR)
    assert await s.extend_key("circle", 6, now) is False

    await s.replace_wrapped("circle", 5, b"rewrapped")
    await s.replace_wrapped("circle", 6, b"ghost")  # no key there: nothing is created
    assert await s.get_key("circle", 6) is None
    await s.put_key(RoomKey("other", 1, b"k-other", now + MINUTE))
    assert sorted(await s.all_keys(), key=lambda k: k.room) == [
        RoomKey("circle", 5, b"rewrapped", now + 2 * HOUR),
        RoomKey("other", 1, b"k-other", now + MINUTE),
    ]


async def test_concurrent_put_key_stores_one(stores: Stores, now: int) -> None:
    results = await asyncio.gather(
        *(stores.rooms.put_key(RoomKey("circle", 1, f"k{i}".encode(), now + HOUR)) for i in range(6))
    )
    assert len({r.wrapped for r in results}) == 1
    assert await stores.rooms.get_key("circle", 1) == results[0]


async def test_purge_destroys_keys_at_destroy_after(stores: Stores, now: int) -> None:
    s = stores.rooms
    await s.put_key(RoomKey("circle", 1, b"k1", now + MINUTE))
    await s.put_key(RoomKey("circle", 2, b"k2", now + HOUR))
    await s.put_key(RoomKey("other", 1, b"k3", now + MINUTE))
    assert await s.purge(now_ms=now + MINUTE - 1) == (0, 0)
    assert await s.purge(now_ms=now + MINUTE) == (0, 2)
    assert await s.get_key("circle", 1) is None
    assert await s.get_key("other", 1) is None
    assert await s.extend_key("circle", 1, now + HOUR) is False  # a destroyed key stays destroyed
    assert [k.epoch for k in await s.all_keys()] == [2]
    await s.add_message(msg("circle", 1, now, ttl=MINUTE))
    assert await s.purge(now_ms=now + HOUR) == (1, 1)


# member records, slow mode, meta ---------------------------------------------


async def test_member_records(stores: Stores) -> None:
    s = stores.rooms
    assert await s.get_member("circle", "m1") is None
    await s.record_member(MemberRecord("circle", "m1", Role.PEER))
    await s.record_member(MemberRecord("circle", "f1", Role.FACILITATOR, "fran"))
    assert await s.get_member("circle", "m1") == MemberRecord("circle", "m1", Role.PEER, None)
    assert await s.get_member("circle", "f1") == MemberRecord("circle", "f1", Role.FACILITATOR, "fran")
    await s.record_member(MemberRecord("circle", "f1", Role.ADMIN, "fran2"))  # upsert
    assert await s.get_member("circle", "f1") == MemberRecord("circle", "f1", Role.ADMIN, "fran2")
    assert await s.get_member("other", "m1") is None


async def test_slow_mode_claims_and_retry(stores: Stores, now: int) -> None:
    s = stores.rooms
    assert await s.take_slow_mode("circle", "m1", now_ms=now, window_ms=5000) == 0
    assert await s.take_slow_mode("circle", "m1", now_ms=now + 1000, window_ms=5000) == 4000
    assert await s.take_slow_mode("circle", "m2", now_ms=now + 1000, window_ms=5000) == 0
    assert await s.take_slow_mode("other", "m1", now_ms=now + 1000, window_ms=5000) == 0
    assert await s.take_slow_mode("circle", "m1", now_ms=now + 4999, window_ms=5000) == 1
    # at exactly the end of the window
    assert await s.take_slow_mode("circle", "m1", now_ms=now + 5000, window_ms=5000) == 0
    assert await s.take_slow_mode("circle", "m1", now_ms=now + 5001, window_ms=5000) == 4999
    assert await s.purge(now_ms=now + HOUR) == (0, 0)
    assert await s.take_slow_mode("circle", "m1", now_ms=now + HOUR, window_ms=5000) == 0


async def test_concurrent_slow_mode_claims_have_one_winner(stores: Stores, now: int) -> None:
    waits = await asyncio.gather(
        *(stores.rooms.take_slow_mode("circle", "m1", now_ms=now, window_ms=5000) for _ in range(6))
    )
    assert sorted(waits) == [0, 5000, 5000, 5000, 5000, 5000]


async def test_meta(stores: Stores) -> None:
    s = stores.rooms
    assert await s.get_meta("member_ids") is None
    assert await s.put_meta_if_absent("member_ids", b"\x00first") == b"\x00first"
    assert await s.put_meta_if_absent("member_ids", b"second") == b"\x00first"
    assert await s.get_meta("member_ids") == b"\x00first"
    await s.set_meta("member_ids", b"third")
    assert await s.get_meta("member_ids") == b"third"
    results = await asyncio.gather(*(s.put_meta_if_absent("race", f"v{i}".encode()) for i in range(6)))
    assert len(set(results)) == 1


async def test_ping(stores: Stores) -> None:
    await stores.rooms.ping()


# mutes and bans -------------------------------------------------------------


async def test_mutes_until_forever_and_clear(stores: Stores, now: int) -> None:
    s = stores.mod
    assert await s.get_mute("circle", "m1", now_ms=now) is None
    await s.set_mute(Mute("circle", "m1", now + MINUTE, "shouting"))
    muted = Mute("circle", "m1", now + MINUTE, "shouting")
    assert await s.get_mute("circle", "m1", now_ms=now + MINUTE - 1) == muted
    assert await s.get_mute("circle", "m1", now_ms=now + MINUTE) is None  # over at exactly until
    assert await s.get_mute("other", "m1", now_ms=now) is None

    await s.set_mute(Mute("circle", "m2", None))
    years_later = now + 10 * 365 * 86_400_000
    assert await s.get_mute("circle", "m2", now_ms=years_later) == Mute("circle", "m2", None, None)
    await s.set_mute(Mute("circle", "m2", now + MINUTE, "shortened"))  # replaced, not added
    assert await s.get_mute("circle", "m2", now_ms=now + MINUTE) is None

    assert await s.clear_mute("circle", "m2") is True
    assert await s.clear_mute("circle", "m2") is False
    assert await s.get_mute("circle", "m2", now_ms=now) is None


async def test_bans_until_and_forever(stores: Stores, now: int) -> None:
    s = stores.mod
    assert await s.get_ban("circle", "m1", now_ms=now) is None
    await s.set_ban(Ban("circle", "m1", now + HOUR, "spam"))
    assert await s.get_ban("circle", "m1", now_ms=now + HOUR - 1) == Ban("circle", "m1", now + HOUR, "spam")
    assert await s.get_ban("circle", "m1", now_ms=now + HOUR) is None
    await s.set_ban(Ban("circle", "m1", None))
    assert await s.get_ban("circle", "m1", now_ms=now + 2 * HOUR) == Ban("circle", "m1", None, None)
    assert await s.get_ban("other", "m1", now_ms=now) is None


# flags -----------------------------------------------------------------------


async def test_flags_add_duplicate_get_list(stores: Stores, now: int) -> None:
    s = stores.mod
    f1 = flag("f1", now)
    assert await s.add_flag(f1) == "f1"
    # the same reporter flagging the same message again gets the first flag's id
    assert await s.add_flag(replace(flag("f1-again", now + 5), reason="again")) == "f1"
    assert await s.add_flag(flag("f2", now + 1, reporter="someone-else")) == "f2"
    assert await s.add_flag(flag("f3", now - 1, message="m2")) == "f3"
    assert await s.get_flag("f1") == f1
    assert await s.get_flag("f1-again") is None
    assert await s.get_flag("nope") is None
    assert [f.id for f in await s.list_flags("open", limit=10)] == ["f3", "f1", "f2"]  # by created_at
    assert [f.id for f in await s.list_flags(None, limit=10)] == ["f3", "f1", "f2"]
    assert [f.id for f in await s.list_flags("open", limit=2)] == ["f3", "f1"]
    assert await s.list_flags("dismissed", limit=10) == []


async def test_concurrent_duplicate_flags_keep_the_first(stores: Stores, now: int) -> None:
    ids = await asyncio.gather(*(stores.mod.add_flag(flag(f"f{i}", now)) for i in range(6)))
    assert len(set(ids)) == 1
    assert len(await stores.mod.list_flags(None, limit=100)) == 1


async def test_resolve_flag_once_and_purge_snapshots(stores: Stores, now: int) -> None:
    s = stores.mod
    await s.add_flag(flag("f1", now))
    await s.add_flag(flag("f2", now + 1, reporter="r2"))
    res = Resolution("dismiss", "admin", now + 10, "fine")
    assert await s.resolve_flag("f1", "dismissed", res, now + HOUR) is True
    assert await s.resolve_flag("f1", "actioned", Resolution("ban", "admin", now + 11), now + HOUR) is False
    assert await s.resolve_flag("missing", "dismissed", res, now + HOUR) is False
    got = await s.get_flag("f1")
    assert got is not None
    assert (got.status, got.resolution, got.purge_after) == ("dismissed", res, now + HOUR)
    assert got.snapshot == b"\x01snap\x00"
    assert [f.id for f in await s.list_flags("open", limit=10)] == ["f2"]
    assert [f.id for f in await s.list_flags("dismissed", limit=10)] == ["f1"]
    assert [f.id for f in await s.list_flags(None, limit=10)] == ["f1", "f2"]
    assert sorted(await s.all_flag_keys()) == [("f1", b"\x02key\x00"), ("f2", b"\x02key\x00")]

    await s.replace_flag_key("f2", b"rewrapped")
    await s.replace_flag_key("missing", b"ghost")
    assert await s.get_flag("missing") is None

    assert await s.purge_flags(now_ms=now + HOUR - 1) == 0
    assert await s.purge_flags(now_ms=now + HOUR) == 1
    assert await s.purge_flags(now_ms=now + HOUR) == 0
    purged = await s.get_flag("f1")
    assert purged is not None
    assert (purged.snapshot, purged.snapshot_key, purged.status) == (None, None, "dismissed")
    assert await s.all_flag_keys() == [("f2", b"rewrapped")]


async def test_two_concurrent_resolves_have_one_winner(stores: Stores, now: int) -> None:
    await stores.mod.add_flag(flag("f1", now))
    results = await asyncio.gather(
        stores.mod.resolve_flag("f1", "dismissed", Resolution("dismiss", "a", now), now + HOUR),
        stores.mod.resolve_flag("f1", "actioned", Resolution("ban", "b", now), now + HOUR),
    )
    assert sorted(results) == [False, True]
    got = await stores.mod.get_flag("f1")
    assert got is not None and got.status in ("dismissed", "actioned")
    assert [f.id for f in await stores.mod.list_flags(got.status, limit=10)] == ["f1"]
    assert await stores.mod.list_flags("open", limit=10) == []


async def test_mod_delete_room_forgets_mutes_bans_and_flags(stores: Stores, now: int) -> None:
    s = stores.mod
    for room in ("doomed", "other"):
        await s.set_mute(Mute(room, "m1", None))
        await s.set_ban(Ban(room, "m2", None))
        await s.add_flag(flag(f"flag-{room}", now, room=room))
    await s.resolve_flag("flag-doomed", "dismissed", Resolution("dismiss", "a", now), now + MINUTE)
    await s.delete_room("doomed")
    assert await s.get_mute("doomed", "m1", now_ms=now) is None
    assert await s.get_ban("doomed", "m2", now_ms=now) is None
    assert await s.get_flag("flag-doomed") is None
    assert [f.id for f in await s.list_flags(None, limit=10)] == ["flag-other"]
    assert await s.list_flags("dismissed", limit=10) == []
    assert await s.purge_flags(now_ms=now + HOUR) == 0
    assert await s.get_mute("other", "m1", now_ms=now) is not None
    assert await s.get_ban("other", "m2", now_ms=now) is not None
    # a fresh flag of the same message by the same reporter is a new flag
    assert await s.add_flag(flag("again", now, room="doomed")) == "again"


# audit -----------------------------------------------------------------------


async def test_audit_newest_first_with_room_filter_and_limit(stores: Stores, now: int) -> None:
    s = stores.mod
    entries = [
        AuditEntry(now, "fran", "mute", "circle", "m1", "shouting"),
        AuditEntry(now + 1, "admin", "staff.add", None, "fran"),
        AuditEntry(now + 2, "fran", "unmute", "circle", "m1"),
        AuditEntry(now + 2, "fran", "remove", "other", "m9", "spam"),
    ]
    for entry in entries:
        await s.append_audit(entry)
    assert await s.list_audit(None, limit=100) == entries[::-1]
    assert await s.list_audit(None, limit=2) == entries[:1:-1]
    assert await s.list_audit("circle", limit=100) == [entries[2], entries[0]]
    assert await s.list_audit("circle", limit=1) == [entries[2]]
    assert await s.list_audit("nowhere", limit=100) == []


# staff -------------------------------------------------------------------------


async def test_staff_accounts(stores: Stores, now: int) -> None:
    s = stores.mod
    fran = StaffAccount("id-fran", "fran", Role.FACILITATOR, "hash-1", now)
    admin = StaffAccount("id-admin", "admin", Role.ADMIN, "hash-2", now)
    await s.add_staff(fran)
    await s.add_staff(admin)
    with pytest.raises(Conflict):
        await s.add_staff(StaffAccount("id-other", "fran", Role.ADMIN, "x", now))
    assert await s.get_staff("fran") == fran
    assert await s.get_staff("nobody") is None
    assert await s.get_staff_by_id("id-admin") == admin
    assert await s.get_staff_by_id("id-nobody") is None
    assert [a.name for a in await s.list_staff()] == ["admin", "fran"]

    assert await s.set_staff_password("fran", "hash-3") is True
    assert await s.set_staff_password("nobody", "hash-3") is False
    assert await s.get_staff("nobody") is None
    assert (await s.get_staff("fran")) == replace(fran, password_hash="hash-3")

    assert await s.remove_staff("fran") == replace(fran, password_hash="hash-3")
    assert await s.remove_staff("fran") is None
    assert await s.get_staff_by_id("id-fran") is None
    assert [a.name for a in await s.list_staff()] == ["admin"]
    await s.add_staff(replace(fran, id="id-fran-2"))  # the name is free again
    assert await s.get_staff_by_id("id-fran-2") is not None


async def test_concurrent_staff_creation_has_one_winner(stores: Stores, now: int) -> None:
    results = await asyncio.gather(
        *(stores.mod.add_staff(StaffAccount(f"id-{i}", "sam", Role.FACILITATOR, "h", now)) for i in range(5)),
        return_exceptions=True,
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if r is not None)


# presence --------------------------------------------------------------------


async def test_presence_join_leave_first_and_last(stores: Stores) -> None:
    p = stores.presence
    river, heron = peer("river"), peer("heron")
    assert await p.join("circle", river, "s1", capacity=None) is True
    assert await p.join("circle", river, "s2", capacity=None) is False  # a second socket
    assert await p.join("circle", river, "s2", capacity=None) is False  # the same socket again
    assert await p.join("circle", heron, "s3", capacity=None) is True
    assert [m.id for m in await p.members("circle")] == ["river", "heron"]  # in order of joining
    assert await p.members("circle") == [river, heron]
    assert await p.counts(["circle", "empty"]) == {"circle": 2, "empty": 0}
    assert await p.sids("circle", "river") == ["s1", "s2"]
    assert await p.sids("circle", "nobody") == []

    assert await p.leave("circle", "river", "s9") is False  # not its socket
    assert await p.leave("circle", "heron", "s1") is False  # another member's socket
    assert await p.leave("circle", "river", "s1") is False
    assert await p.leave("circle", "river", "s2") is True
    assert await p.leave("circle", "river", "s2") is False
    assert await p.members("circle") == [heron]
    assert await p.counts(["circle"]) == {"circle": 1}


async def test_presence_capacity_counts_distinct_peers_only(stores: Stores) -> None:
    p = stores.presence
    assert await p.join("circle", peer("p1"), "s1", capacity=2) is True
    assert await p.join("circle", staff("f1"), "s2", capacity=2) is True
    assert await p.join("circle", peer("p2"), "s3", capacity=2) is True
    with pytest.raises(RoomFull):
        await p.join("circle", peer("p3"), "s4", capacity=2)
    assert await p.join("circle", peer("p1"), "s5", capacity=2) is False  # already online: not a new peer
    assert await p.join("circle", staff("f2"), "s6", capacity=2) is True  # staff never count
    assert await p.counts(["circle"]) == {"circle": 4}
    assert await p.leave("circle", "p2", "s3") is True
    assert await p.join("circle", peer("p3"), "s4", capacity=2) is True
    assert await p.join("circle", peer("p4"), "s7", capacity=None) is True  # unlimited


async def test_concurrent_joins_never_exceed_capacity(stores: Stores) -> None:
    p = stores.presence
    results = await asyncio.gather(
        *(p.join("circle", peer(f"p{i}"), f"s{i}", capacity=3) for i in range(12)), return_exceptions=True
    )
    assert sum(r is True for r in results) == 3
    assert sum(isinstance(r, RoomFull) for r in results) == 9
    assert await p.counts(["circle"]) == {"circle": 3}


async def test_presence_remove_member_and_drop_room(stores: Stores) -> None:
    p = stores.presence
    await p.join("circle", peer("river"), "s1", capacity=None)
    await p.join("circle", peer("river"), "s2", capacity=None)
    await p.join("circle", peer("heron"), "s3", capacity=None)
    await p.join("other", peer("river"), "s1", capacity=None)
    assert await p.remove_member("circle", "river") == ["s1", "s2"]
    assert await p.remove_member("circle", "river") == []
    assert await p.sids("circle", "river") == []
    assert [m.id for m in await p.members("circle")] == ["heron"]
    assert await p.leave("circle", "river", "s1") is False
    assert await p.sids("other", "river") == ["s1"]  # other rooms keep their sockets

    await p.drop_room("circle")
    assert await p.members("circle") == []
    assert await p.counts(["circle", "other"]) == {"circle": 0, "other": 1}
    assert await p.join("circle", peer("heron"), "s3", capacity=None) is True  # first again after a drop


async def test_reap_on_a_healthy_deployment_reports_nothing(stores: Stores) -> None:
    await stores.presence.join("circle", peer("river"), "s1", capacity=None)
    assert await stores.presence.reap() == []
    assert await stores.presence.counts(["circle"]) == {"circle": 1}


# idempotent sends ------------------------------------------------------------------


async def test_a_message_sent_again_under_its_client_id_is_stored_once(stores: Stores, now: int) -> None:
    rooms = stores.rooms
    first = msg("circle", 1, now)
    assert await rooms.add_message(first, dedupe="d1") is None
    assert await rooms.find_sent("circle", "d1", now_ms=now) == first.id
    again = replace(msg("circle", 2, now + 10), expires_at=first.expires_at + 10)
    assert await rooms.add_message(again, dedupe="d1") == first.id  # not stored a second time
    assert await rooms.add_message(msg("circle", 3, now + 20), dedupe="d2") is None  # another client id
    assert [m.id for m in await rooms.history("circle", now_ms=now + 30, limit=10)] == [first.id, "m0003"]
    assert await rooms.find_sent("circle", "d1", now_ms=first.expires_at) is None  # the message's lifetime
    # once the first has expired and been purged, the same client id is free again
    await rooms.purge(now_ms=first.expires_at)
    later = msg("circle", 4, first.expires_at + 1)
    assert await rooms.add_message(later, dedupe="d1") is None
    assert await rooms.find_sent("circle", "d1", now_ms=later.ts) == later.id


async def test_concurrent_sends_under_one_client_id_store_one(stores: Stores, now: int) -> None:
    sends = [stores.rooms.add_message(msg("circle", i, now), dedupe="same") for i in range(10)]
    results = await asyncio.gather(*sends)
    assert results.count(None) == 1
    winner = next(f"m{i:04d}" for i, r in enumerate(results) if r is None)
    assert {r for r in results if r is not None} == {winner}
    assert [m.id for m in await stores.rooms.history("circle", now_ms=now, limit=20)] == [winner]


async def test_delete_room_forgets_client_ids(stores: Stores, now: int) -> None:
    await stores.rooms.create_room(Room("circle", "Circle", created_at=now))
    await stores.rooms.add_message(msg("circle", 1, now), dedupe="d1")
    await stores.rooms.delete_room("circle")
    assert await stores.rooms.find_sent("circle", "d1", now_ms=now) is None
