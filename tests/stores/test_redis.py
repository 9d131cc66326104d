"""What only the Redis stores promise: many processes, self-expiring keys, shredding, and outages."""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import redis

from moderation.models import AuditEntry, Ban, Mute, Resolution, StaffAccount
from moderation.redis_store import RedisModStore
from rooms.errors import RoomFull, Unavailable
from rooms.models import Member, MemberRecord, Role, Room, RoomKey, SealedMessage
from rooms.redis_common import connect, key, lua, stop_task
from rooms.redis_presence import UNREADABLE, RedisPresence
from rooms.redis_store import RedisRoomStore
from server.stores import open_stores
from tests.conftest import RedisProcess, free_port, make_config
from tests.stores.conftest import SEAL_KEY, Stores

HOUR = 3_600_000


def peer(member_id: str) -> Member:
    return Member(member_id, f"Peer {member_id}", Role.PEER)


async def room_keys(stores: Stores, pattern: str) -> list[str]:
    assert isinstance(stores.rooms, RedisRoomStore)
    return sorted([k.decode() async for k in stores.rooms.r.scan_iter(match=pattern)])


# many processes ------------------------------------------------------------------


async def test_a_second_process_sees_the_same_members(redis_stores: Stores) -> None:
    a = redis_stores.presence
    assert redis_stores.open_process is not None
    b = await redis_stores.open_process(process_id="process-b")
    assert await a.join("circle", peer("river"), "a1", capacity=2) is True
    assert await b.join("circle", peer("river"), "b1", capacity=2) is False  # same member, other process
    assert await b.join("circle", peer("heron"), "b2", capacity=2) is True
    with pytest.raises(RoomFull):
        await a.join("circle", peer("otter"), "a2", capacity=2)
    for p in (a, b):
        assert [m.id for m in await p.members("circle")] == ["river", "heron"]
        assert await p.counts(["circle"]) == {"circle": 2}
    assert await a.sids("circle", "river") == ["a1", "b1"]
    assert await a.remove_member("circle", "river") == ["a1", "b1"]  # from every process
    assert await b.leave("circle", "heron", "b2") is True


async def test_concurrent_joins_on_two_processes_never_exceed_capacity(redis_stores: Stores) -> None:
    assert redis_stores.open_process is not None
    procs = [redis_stores.presence, await redis_stores.open_process()]
    results = await asyncio.gather(
        *(procs[i % 2].join("circle", peer(f"p{i}"), f"s{i}", capacity=4) for i in range(20)),
        return_exceptions=True,
    )
    assert sum(r is True for r in results) == 4
    assert await procs[1].counts(["circle"]) == {"circle": 4}


async def test_a_dead_process_stops_counting_and_is_reaped_once(redis_stores: Stores) -> None:
    a = redis_stores.presence
    assert isinstance(a, RedisPresence) and redis_stores.open_process is not None
    b = await redis_stores.open_process(process_id="process-b", ttl_ms=300, interval_s=0.05)
    c = await redis_stores.open_process(process_id="process-c")
    assert isinstance(b, RedisPresence)
    await b.join("circle", peer("river"), "b1", capacity=None)  # only on b
    await b.join("circle", peer("heron"), "b2", capacity=None)  # on b and on a
    await a.join("circle", peer("heron"), "a1", capacity=None)
    await b.join("other", peer("otter"), "b3", capacity=2)
    assert await a.counts(["circle", "other"]) == {"circle": 2, "other": 1}

    await b.stop_heartbeat()  # b "crashes": its heartbeat lapses after its short TTL
    deadline = time.monotonic() + 5
    while await a.counts(["circle", "other"]) != {"circle": 1, "other": 0}:
        assert time.monotonic() < deadline, "b's sockets still count after its heartbeat lapsed"
        await asyncio.sleep(0.05)
    assert [m.id for m in await a.members("circle")] == ["heron"]
    assert await a.sids("circle", "heron") == ["a1"]
    # its old peers no longer fill the room
    assert await a.join("other", peer("p1"), "a2", capacity=1) is True

    reaped = await asyncio.gather(a.reap(), c.reap())  # two survivors at once: each pair reported once
    assert sorted(reaped[0] + reaped[1]) == [("circle", "river"), ("other", "otter")]
    assert await a.reap() == []
    assert await a.remove_member("circle", "river") == []  # b's sockets are really gone
    assert await a.leave("circle", "heron", "a1") is True


async def test_a_socket_on_a_silent_process_keeps_the_member_until_reaped(redis_stores: Stores) -> None:
    a = redis_stores.presence
    assert redis_stores.open_process is not None
    b = await redis_stores.open_process(process_id="process-b")
    assert isinstance(b, RedisPresence)
    await b.join("circle", peer("river"), "b1", capacity=None)
    await a.join("circle", peer("river"), "a1", capacity=None)
    await b.aclose()  # b is silent: it may be dead, or only cut off from Redis for a moment
    assert await a.leave("circle", "river", "a1") is False  # b1 may still be there
    assert await a.reap() == [("circle", "river")]  # b is dead after all: reported now
    assert await a.reap() == []  # and once


async def test_closing_presence_makes_its_sockets_stop_counting(redis_stores: Stores) -> None:
    assert redis_stores.open_process is not None
    b = await redis_stores.open_process(process_id="process-b")
    await b.join("circle", peer("river"), "b1", capacity=None)
    assert await redis_stores.presence.counts(["circle"]) == {"circle": 1}
    await b.aclose()
    assert await redis_stores.presence.counts(["circle"]) == {"circle": 0}
    assert await redis_stores.presence.reap() == [("circle", "river")]


async def test_pseudonyms_are_sealed_and_open_with_an_older_key(redis_stores: Stores) -> None:
    assert redis_stores.open_process is not None and isinstance(redis_stores.rooms, RedisRoomStore)
    await redis_stores.presence.join("circle", Member("river", "Quiet Heron", Role.PEER), "a1", capacity=None)
    raw = await redis_stores.rooms.r.hgetall(key("presence", "room", "circle", "members"))
    assert b"Quiet Heron" not in b"".join(raw.values())
    rotated = await redis_stores.open_process(seal_keys=[b"n" * 32, SEAL_KEY])  # new secret first, old kept
    assert [m.pseudonym for m in await rotated.members("circle")] == ["Quiet Heron"]
    stranger = await redis_stores.open_process(seal_keys=[b"n" * 32])
    assert await stranger.members("circle") == [Member("river", UNREADABLE, Role.PEER)]


# keys that end by themselves, and shredding ---------------------------------------


async def test_messages_and_mutes_carry_their_own_expiry(redis_stores: Stores) -> None:
    now = time.time_ns() // 1_000_000
    rooms, mod = redis_stores.rooms, redis_stores.mod
    assert isinstance(rooms, RedisRoomStore)
    await rooms.add_message(SealedMessage("circle", "m1", now, now + HOUR, 1, b"x"))
    ttl = await rooms.r.pttl(key("room", "circle", "msg", "m1"))
    assert HOUR - 5000 < ttl <= HOUR
    await mod.set_mute(Mute("circle", "m1", now + HOUR))
    assert await rooms.r.pttl(key("room", "circle", "mute", "m1")) > HOUR - 5000
    await mod.set_mute(Mute("circle", "m2", None))
    assert await rooms.r.pttl(key("room", "circle", "mute", "m2")) == -1  # until unmuted

    # an already expired message vanishes by itself, and is never listed
    await rooms.add_message(SealedMessage("circle", "m2", now - 2000, now - 1000, 1, b"y"))
    assert await rooms.r.exists(key("room", "circle", "msg", "m2")) == 0
    assert [m.id for m in await rooms.history("circle", now_ms=now, limit=10)] == ["m1"]


async def test_delete_room_leaves_no_key_of_the_room(redis_stores: Stores) -> None:
    now = time.time_ns() // 1_000_000
    rooms = redis_stores.rooms
    await rooms.create_room(Room("doomed", "Doomed", created_at=now))
    await rooms.add_message(SealedMessage("doomed", "m1", now, now + HOUR, 1, b"x"))
    await rooms.put_key(RoomKey("doomed", 1, b"wrapped", now + HOUR))
    await rooms.record_member(MemberRecord("doomed", "m1", Role.PEER))
    await rooms.take_slow_mode("doomed", "m1", now_ms=now, window_ms=60_000)
    await redis_stores.mod.delete_room("doomed")
    assert await room_keys(redis_stores, "hearth:room:doomed*") != []
    await rooms.delete_room("doomed")
    assert await room_keys(redis_stores, "hearth:room:doomed*") == []
    assert await rooms.purge(now_ms=now + 2 * HOUR) == (0, 0)


# outages -----------------------------------------------------------------------------


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path)
    server.start()
    yield server
    server.stop()


async def test_calls_raise_unavailable_while_redis_is_down_and_recover(private_redis: RedisProcess) -> None:
    client = connect(private_redis.url)
    rooms = RedisRoomStore(client)
    presence = RedisPresence(client, seal_keys=[SEAL_KEY], process_id="solo")
    try:
        await presence.start()
        await rooms.create_room(Room("circle", "Circle", created_at=1))
        await presence.join("circle", peer("river"), "s1", capacity=None)

        private_redis.stop()
        for call in (
            rooms.ping(),
            rooms.get_room("circle"),
            RedisModStore(client).list_staff(),
            presence.counts(["circle"]),
            presence.join("circle", peer("heron"), "s2", capacity=None),
        ):
            started = time.monotonic()
            with pytest.raises(Unavailable):
                await call
            assert time.monotonic() - started < 3, "a call hung beyond the socket timeout"

        private_redis.start()  # same port, empty data: the same client reconnects by itself
        await rooms.ping()
        assert await rooms.get_room("circle") is None
        await rooms.create_room(Room("circle", "Circle", created_at=1))
        assert await rooms.get_room("circle") is not None
        await presence.beat()
        assert await presence.join("circle", peer("heron"), "s2", capacity=None) is True
    finally:
        await presence.aclose()
        await client.aclose()


async def test_open_stores_fails_clearly_when_redis_is_unreachable(tmp_path: Path) -> None:
    config = make_config(tmp_path, f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(Unavailable, match="REDIS_URL"):
        await open_stores(config)


async def test_open_stores_starts_presence_and_closes_in_order(private_redis: RedisProcess, tmp_path: Path) -> None:
    config = make_config(tmp_path, private_redis.url)
    stores = await open_stores(config)
    presence = stores.presence
    assert isinstance(presence, RedisPresence)
    await stores.rooms.ping()
    assert await presence.join("circle", peer("river"), "s1", capacity=None) is True
    assert await presence.counts(["circle"]) == {"circle": 1}  # the heartbeat is running
    assert await stores.mod.list_staff() == []
    await stores.aclose()
    await stores.aclose()  # closing twice is harmless
    probe = redis.Redis(port=private_redis.port)
    try:
        assert probe.exists(key("presence", "process", presence.process_id)) == 0
    finally:
        probe.close()


async def test_a_hung_redis_costs_one_socket_timeout(private_redis: RedisProcess) -> None:
    client = connect(private_redis.url)
    rooms = RedisRoomStore(client)
    try:
        await rooms.ping()
        assert private_redis.proc is not None
        private_redis.proc.send_signal(signal.SIGSTOP)  # accepts connections, answers nothing
        try:
            started = time.monotonic()
            with pytest.raises(Unavailable):
                await rooms.get_room("circle")
            assert time.monotonic() - started < 3
        finally:
            private_redis.proc.send_signal(signal.SIGCONT)
        assert await rooms.get_room("circle") is None
    finally:
        await client.aclose()


# Lua -------------------------------------------------------------------------------


def lua_files() -> list[Path]:
    root = Path(__file__).resolve().parents[2]
    return sorted([*root.glob("rooms/lua/*.lua"), *root.glob("moderation/lua/*.lua")])


async def test_every_lua_file_is_used_and_compiles(redis_stores: Stores) -> None:
    """Each file under */lua/ is loaded by a store at start-up, and Redis accepts it."""
    import moderation.redis_returning
    import moderation.redis_store
    import rooms.redis_presence
    import rooms.redis_store

    modules = (rooms.redis_store, rooms.redis_presence, moderation.redis_store, moderation.redis_returning)
    sources = "".join(Path(str(m.__file__)).read_text() for m in modules)
    files = lua_files()
    assert len(files) >= 20
    assert isinstance(redis_stores.rooms, RedisRoomStore)
    client = redis_stores.rooms.r
    for path in files:
        assert f'"{path.stem}"' in sources, f"{path} is not loaded by any store"
        if path.stem == "presence_lib":
            continue  # a library, loaded in front of each presence script
        names = ["presence_lib", path.stem] if path.stem.startswith("presence_") else [path.stem]
        await client.script_load(lua(path.parent.parent.name, *names))


# the documented key layout ---------------------------------------------------------


def documented_keys() -> list[re.Pattern[str]]:
    """The key names in the first column of the key layout tables, ``<room>`` and the like as wildcards."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "ARCHITECTURE.md").read_text()
    rows = doc.split("## Redis key layout", 1)[1].splitlines()
    cells = [row.split("|")[1] for row in rows if row.startswith("| `hearth:")]
    names = [name for cell in cells for name in re.findall(r"`(hearth:[^`]+)`", cell)]
    return [re.compile(re.sub(r"<[^>]+>", "[^:]+", re.escape(n)) + "$") for n in names]


async def test_every_key_written_is_in_the_documented_layout(redis_stores: Stores, now: int) -> None:
    from tests.stores.test_contract import flag

    rooms, mod, presence = redis_stores.rooms, redis_stores.mod, redis_stores.presence
    await rooms.create_room(Room("circle", "Circle", created_at=now))
    await rooms.add_message(SealedMessage("circle", "m1", now, now + HOUR, 7, b"sealed"), dedupe="d" * 32)
    await rooms.put_key(RoomKey("circle", 7, b"wrapped", now + 2 * HOUR))
    await rooms.record_member(MemberRecord("circle", "river", Role.PEER))
    await rooms.take_slow_mode("circle", "river", now_ms=now, window_ms=5000)
    await rooms.put_meta_if_absent("member_ids", b"wrapped")
    await mod.set_mute(Mute("circle", "river", now + HOUR))
    await mod.set_ban(Ban("circle", "heron", None))
    await mod.add_flag(flag("f1", now))
    await mod.resolve_flag("f1", "dismissed", Resolution("dismiss", "admin", now), now + HOUR)
    await mod.append_audit(AuditEntry(now, "admin", "mute", "circle", "river"))
    await mod.add_staff(StaffAccount("s1", "admin", Role.ADMIN, "hash", now))
    await presence.join("circle", peer("river"), "sid1", capacity=None)

    patterns = documented_keys()
    assert len(patterns) >= 25
    assert isinstance(rooms, RedisRoomStore)
    written = sorted([k.decode() async for k in rooms.r.scan_iter(match="*")])
    undocumented = [k for k in written if not any(p.match(k) for p in patterns)]
    assert undocumented == []
    assert len(written) >= 25


# outages: presence ---------------------------------------------------------------------


@pytest.fixture
def durable_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path, appendonly=True)
    server.start()
    yield server
    server.stop()


async def wait_until(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_nobody_is_reaped_after_an_outage_longer_than_the_ttl(durable_redis: RedisProcess) -> None:
    """Every heartbeat lapses while Redis is down; each process gets a TTL to beat again first."""
    ttl_ms = 1500
    clients = [connect(durable_redis.url), connect(durable_redis.url)]
    # a beats often and reaps often; b is slower to beat again once Redis is back
    a = RedisPresence(clients[0], seal_keys=[SEAL_KEY], process_id="pa", ttl_ms=ttl_ms, interval_s=0.1)
    b = RedisPresence(clients[1], seal_keys=[SEAL_KEY], process_id="pb", ttl_ms=ttl_ms, interval_s=0.5)
    try:
        await a.start()
        await b.start()
        await b.join("circle", peer("river"), "b1", capacity=None)
        await a.join("circle", peer("heron"), "a1", capacity=None)

        durable_redis.stop()

        async def out_of_touch() -> bool:
            return not a.may_reap()

        await wait_until(out_of_touch, "a failed beat was not noticed")
        await asyncio.sleep(1.5 * ttl_ms / 1000)  # every heartbeat key is past its TTL now
        durable_redis.start()  # same port and data (AOF); the heartbeat keys come back expired

        reaped: list[tuple[str, str]] = []
        deadline = time.monotonic() + 2 * ttl_ms / 1000
        while time.monotonic() < deadline:
            reaped += await a.reap()
            await asyncio.sleep(0.02)
        assert reaped == []
        assert [m.id for m in await a.members("circle")] == ["river", "heron"]
        assert a.may_reap()
        await b.stop_heartbeat()  # now b really dies: it is reaped after its TTL, as before

        async def river_reaped() -> bool:
            return await a.reap() == [("circle", "river")]

        await wait_until(river_reaped, "b was not reaped once it really died")
    finally:
        await a.aclose()
        await b.aclose()
        for c in clients:
            await c.aclose()


async def test_a_leave_during_an_outage_is_finished_and_reported_by_reap(durable_redis: RedisProcess) -> None:
    client = connect(durable_redis.url)
    presence = RedisPresence(client, seal_keys=[SEAL_KEY], process_id="solo")
    try:
        await presence.start()
        await presence.join("circle", peer("river"), "s1", capacity=None)
        await presence.join("circle", peer("heron"), "s2", capacity=None)
        durable_redis.stop()
        assert await presence.leave("circle", "river", "s1") is False  # kept, not raised
        with pytest.raises(Unavailable):
            await presence.reap()
        durable_redis.start()
        assert await presence.reap() == [("circle", "river")]
        assert await presence.reap() == []
        assert [m.id for m in await presence.members("circle")] == ["heron"]
    finally:
        await presence.aclose()
        await client.aclose()


async def test_a_lapsed_heartbeat_puts_the_sockets_back(private_redis: RedisProcess) -> None:
    """Redis lost its data (restarted without persistence): the next beat re-registers our sockets."""
    client = connect(private_redis.url)
    presence = RedisPresence(client, seal_keys=[SEAL_KEY], process_id="solo", ttl_ms=3000, interval_s=1)
    try:
        await presence.start()
        await presence.join("circle", peer("river"), "s1", capacity=None)
        await presence.join("circle", peer("heron"), "s2", capacity=None)
        assert await presence.leave("circle", "heron", "s2") is True
        await client.flushall()
        assert await presence.members("circle") == []
        await presence.beat()
        assert [m.id for m in await presence.members("circle")] == ["river"]
        assert not presence.may_reap()  # and it does not judge others until it has been in touch a TTL
    finally:
        await presence.aclose()
        await client.aclose()


async def test_a_burst_beyond_the_pool_waits_for_a_connection(redis_server: str) -> None:
    """200 joins and 200 leaves at once over 5 connections: every one succeeds, none fails fast."""
    client = connect(redis_server, pool_size=5)
    presence = RedisPresence(client, seal_keys=[SEAL_KEY], process_id="burst")
    try:
        await client.flushdb()
        await presence.start()
        joins = (presence.join("circle", peer(f"p{i}"), f"s{i}", capacity=None) for i in range(200))
        joined = await asyncio.gather(*joins)
        assert joined == [True] * 200
        left = await asyncio.gather(*(presence.leave("circle", f"p{i}", f"s{i}") for i in range(200)))
        assert left == [True] * 200
        assert await presence.reap() == []  # nothing was deferred
        assert len(client.connection_pool._in_use_connections) + len(client.connection_pool._available_connections) <= 5
    finally:
        await presence.aclose()
        await client.aclose()


async def test_stop_task_ends_a_loop_whose_first_cancellation_was_swallowed() -> None:
    """As Python 3.11's asyncio.wait_for inside redis-py can: the loop carries on after a cancel."""
    swallowed = 0

    async def retrying_loop() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1  # lost, as inside wait_for when the inner call had just completed

    task = asyncio.create_task(retrying_loop())
    await asyncio.sleep(0.02)
    await asyncio.wait_for(stop_task(task), 5)
    assert task.cancelled() and swallowed == 1


async def test_a_member_removed_while_their_process_was_cut_off_is_not_put_back(private_redis: RedisProcess) -> None:
    """a's heartbeat lapses, b reaps a's sockets and removes river (a hears no kick); back, a must not
    re-assert river's socket: it hands it to the server to take out instead. heron is put back."""
    clients = [connect(private_redis.url), connect(private_redis.url)]
    a = RedisPresence(clients[0], seal_keys=[SEAL_KEY], process_id="pa", ttl_ms=3000, interval_s=60)
    b = RedisPresence(clients[1], seal_keys=[SEAL_KEY], process_id="pb", ttl_ms=3000, interval_s=60)
    told: list[tuple[str, str, int | None]] = []

    async def removed(room_id: str, member_id: str, banned_until: int | None) -> None:
        told.append((room_id, member_id, banned_until))

    a.on_removed_while_away(removed)
    try:
        await a.start()  # its beat loop waits a minute: the test beats by hand
        await b.start()
        await a.join("circle", peer("river"), "a1", capacity=None)
        await a.join("circle", peer("heron"), "a2", capacity=None)
        await a.join("other", peer("river"), "a3", capacity=None)  # removed from circle only
        await clients[0].delete(key("presence", "process", "pa"))  # a's heartbeat lapsed (cut off)
        assert await b.reap() == [("circle", "heron"), ("circle", "river"), ("other", "river")]
        assert await b.remove_member("circle", "river", banned_until=123) == []  # nobody left to kick
        await a.beat()  # a is back: its heartbeat was gone, so it puts its sockets back
        assert told == [("circle", "river", 123)]
        assert [m.id for m in await b.members("circle")] == ["heron"]
        assert [m.id for m in await b.members("other")] == ["river"]

        # Removed, then back in the room (no ban): a later lapse puts the new socket back.
        await a.join("circle", peer("river"), "a4", capacity=None)
        await clients[0].delete(key("presence", "process", "pa"))
        await b.reap()
        await a.beat()
        assert told == [("circle", "river", 123)]
        assert [m.id for m in await b.members("circle")] == ["heron", "river"]
    finally:
        await a.aclose()
        await b.aclose()
        for c in clients:
            await c.aclose()


async def test_a_re_assert_cut_short_by_redis_is_finished_by_the_next_beat(durable_redis: RedisProcess) -> None:
    """Redis fails again after the lapsed process put back one of its two sockets: the next beat, whose
    heartbeat is no longer missing, must still put back the other."""
    client = connect(durable_redis.url)
    presence = RedisPresence(client, seal_keys=[SEAL_KEY], process_id="pa", ttl_ms=3000, interval_s=60)
    join_script = presence._join
    calls = 0

    async def join_then_fail(*args: object, **kwargs: object) -> object:
        nonlocal calls
        result = await join_script(*args, **kwargs)
        calls += 1
        if calls == 1:  # the first socket is back; Redis goes down before the second
            durable_redis.stop()
        return result

    try:
        await presence.start()  # its beat loop waits a minute: the test beats by hand
        await presence.join("circle", peer("river"), "a1", capacity=None)
        await presence.join("circle", peer("heron"), "a2", capacity=None)
        await client.delete(key("presence", "room", "circle", "sockets"), key("presence", "room", "circle", "members"))
        await client.delete(key("presence", "process", "pa"))  # lapsed, and reaped by another process
        presence._join = join_then_fail  # type: ignore[method-assign]
        with pytest.raises(Unavailable):
            await presence.beat()
        assert calls == 1
        durable_redis.start()  # same data (AOF): the heartbeat the failed beat set is there
        presence._join = join_script  # type: ignore[method-assign]
        await presence.beat()
        assert sorted(m.id for m in await presence.members("circle")) == ["heron", "river"]
    finally:
        await presence.aclose()
        await client.aclose()
