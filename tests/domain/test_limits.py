"""The send limit's token bucket, on a manual clock."""

from __future__ import annotations

from rooms.clock import ManualClock
from rooms.limits import TokenBucket


def test_burst_of_five_then_one_every_two_seconds() -> None:
    clock = ManualClock()
    bucket = TokenBucket(clock, burst=5, refill_ms=2000)
    key = ("room", "member")
    for _ in range(5):
        assert bucket.check(key) == 0
        bucket.take(key)
    assert bucket.check(key) == 2000
    clock.advance(1500)
    assert bucket.check(key) == 500
    clock.advance(500)
    assert bucket.check(key) == 0
    bucket.take(key)
    assert bucket.check(key) == 2000


def test_check_does_not_spend_and_keys_are_separate() -> None:
    clock = ManualClock()
    bucket = TokenBucket(clock, burst=1, refill_ms=1000)
    for _ in range(10):
        assert bucket.check(("r", "a")) == 0
    bucket.take(("r", "a"))
    assert bucket.check(("r", "a")) > 0
    assert bucket.check(("r", "b")) == 0
    assert bucket.check(("other-room", "a")) == 0


def test_prune_forgets_only_full_buckets() -> None:
    clock = ManualClock()
    bucket = TokenBucket(clock, burst=2, refill_ms=1000)
    bucket.take(("r", "a"))
    bucket.prune()
    assert bucket.check(("r", "a")) == 0  # one token left, remembered
    bucket.take(("r", "a"))
    bucket.prune()
    assert bucket.check(("r", "a")) == 1000
    clock.advance(5000)
    bucket.prune()
    assert bucket._state == {}


def test_take_refuses_without_spending_and_refund_gives_back() -> None:
    clock = ManualClock()
    bucket = TokenBucket(clock, burst=2, refill_ms=1000)
    assert bucket.take(("r", "a")) == 0
    assert bucket.take(("r", "a")) == 0
    assert bucket.take(("r", "a")) == 1000  # refused: nothing taken
    bucket.refund(("r", "a"))
    assert bucket.take(("r", "a")) == 0
    for _ in range(5):
        bucket.refund(("r", "a"))
    assert bucket._tokens(("r", "a"), clock.now_ms()) == 2.0  # never above the burst
