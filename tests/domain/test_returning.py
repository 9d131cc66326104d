"""The returning-member signal (precise rule 26): keyed daily hashes, kept for the sanction's length only."""

from __future__ import annotations

from pathlib import Path

import pytest

from crypto.address_hash import DAY_MS, AddressHasher
from moderation.returning import MemoryAddressMarks, ReturningSignal, keep_until
from rooms.clock import ManualClock

HOUR = 3_600_000
ADDRESS = "203.0.113.7"
MIDNIGHT = 1_700_006_400_000  # a UTC midnight (a multiple of DAY_MS)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MIDNIGHT + 10 * HOUR)


@pytest.fixture
def signal(clock: ManualClock) -> ReturningSignal:
    return ReturningSignal(AddressHasher(b"k" * 32), MemoryAddressMarks(), clock)


def test_hash_changes_daily_and_depends_on_the_key() -> None:
    one, two = AddressHasher(b"k" * 32), AddressHasher(b"j" * 32)
    assert one.digest(ADDRESS, 5) == one.digest(ADDRESS, 5)
    assert one.digest(ADDRESS, 5) != one.digest(ADDRESS, 6)
    assert one.digest(ADDRESS, 5) != two.digest(ADDRESS, 5)
    assert ADDRESS not in one.digest(ADDRESS, 5) and "203" not in one.digest(ADDRESS, 5)
    assert one.recent(ADDRESS, 6 * DAY_MS + 5) == [one.digest(ADDRESS, 6), one.digest(ADDRESS, 5)]


def test_keep_until_bounds() -> None:
    now = MIDNIGHT
    assert keep_until(now, None) == now + DAY_MS
    assert keep_until(now, now + HOUR) == now + HOUR
    assert keep_until(now, now + 30 * DAY_MS) == now + 7 * DAY_MS


async def test_a_different_identity_from_a_marked_address_matches(signal: ReturningSignal, clock: ManualClock) -> None:
    until = clock.now_ms() + 3 * DAY_MS
    assert await signal.remember("circle", "m_banned", [ADDRESS], until) > 0
    mark = await signal.match("circle", "m_new", ADDRESS)
    assert mark is not None and mark.member_id == "m_banned" and mark.until == until
    assert await signal.match("circle", "m_banned", ADDRESS) is None  # the sanctioned member itself
    assert await signal.match("other", "m_new", ADDRESS) is None  # per room
    assert await signal.match("circle", "m_new", "198.51.100.1") is None  # another network
    clock.advance(2 * DAY_MS + 13 * HOUR)  # across two midnights, still within the sanction
    assert await signal.match("circle", "m_new", ADDRESS) is not None
    clock.set(until)
    assert await signal.match("circle", "m_new", ADDRESS) is None  # ends with the sanction


async def test_endless_mute_is_kept_24_hours(signal: ReturningSignal, clock: ManualClock) -> None:
    await signal.remember("circle", "m_muted", [ADDRESS], None)
    mark = await signal.match("circle", "m_new", ADDRESS)
    assert mark is not None and mark.until is None
    clock.advance(DAY_MS - 1)
    assert await signal.match("circle", "m_new", ADDRESS) is not None
    clock.advance(1)
    assert await signal.match("circle", "m_new", ADDRESS) is None


async def test_long_ban_is_kept_seven_days(signal: ReturningSignal, clock: ManualClock) -> None:
    start = clock.now_ms()
    await signal.remember("circle", "m_banned", [ADDRESS], start + 30 * DAY_MS)
    clock.set(start + 7 * DAY_MS - 1)
    assert await signal.match("circle", "m_new", ADDRESS) is not None
    clock.set(start + 7 * DAY_MS)
    assert await signal.match("circle", "m_new", ADDRESS) is None


async def test_marks_hold_no_address_and_expire_from_memory(clock: ManualClock) -> None:
    marks = MemoryAddressMarks()
    signal = ReturningSignal(AddressHasher(b"k" * 32), marks, clock)
    await signal.remember("circle", "m_banned", [ADDRESS, "2001:db8::1"], clock.now_ms() + HOUR)
    assert ADDRESS not in repr(marks._marks) and "2001:db8" not in repr(marks._marks)
    clock.advance(2 * HOUR + MemoryAddressMarks.PRUNE_EVERY_MS)
    await signal.match("circle", "m_new", ADDRESS)
    assert len(marks) == 0


async def test_disabled_signal_keeps_nothing(clock: ManualClock) -> None:
    marks = MemoryAddressMarks()
    signal = ReturningSignal(AddressHasher(b"k" * 32), marks, clock, enabled=False)
    assert await signal.remember("circle", "m_banned", [ADDRESS], clock.now_ms() + HOUR) == 0
    assert len(marks) == 0
    assert await signal.match("circle", "m_new", ADDRESS) is None


async def test_longest_sanction_wins(signal: ReturningSignal, clock: ManualClock) -> None:
    now = clock.now_ms()
    await signal.remember("circle", "m_short", [ADDRESS], now + HOUR)
    await signal.remember("circle", "m_long", [ADDRESS], now + 2 * DAY_MS)
    mark = await signal.match("circle", "m_new", ADDRESS)
    assert mark is not None and mark.member_id == "m_long"


async def test_sqlite_file_never_holds_marks(tmp_path: Path, clock: ManualClock) -> None:
    from server.services import open_services
    from tests.conftest import make_config

    svc = await open_services(make_config(tmp_path, ip_limits=True), clock)
    try:
        await svc.returning.remember("circle", "m_banned", [ADDRESS], clock.now_ms() + HOUR)
        digest = svc.returning.hasher.digest(ADDRESS, clock.now_ms() // DAY_MS)
        assert await svc.returning.match("circle", "m_new", ADDRESS) is not None
    finally:
        await svc.aclose()
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert digest.encode() not in data and ADDRESS.encode() not in data
