"""Per-process rate limits: token buckets for sends, flags, joins and history bytes."""

from __future__ import annotations

from rooms.clock import Clock


class TokenBucket:
    """Burst of ``burst`` sends, refilling one every ``refill_ms``.

    ``take`` takes a token at once, before the caller awaits anything, so concurrent
    calls (one identity on many sockets) cannot all pass on the same token; a call
    refused later gives it back with ``refund``, so refused sends do not use the
    allowance up (docs/PROTOCOL.md precise rule 9).
    """

    def __init__(self, clock: Clock, *, burst: int = 5, refill_ms: float = 2000) -> None:
        self.clock = clock
        self.burst = burst
        self.refill_ms = refill_ms
        self._state: dict[tuple[str, str], tuple[float, int]] = {}  # key -> (tokens, at_ms)

    def _tokens(self, key: tuple[str, str], now: int) -> float:
        tokens, at = self._state.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - at) / self.refill_ms)

    def check(self, key: tuple[str, str]) -> int:
        """0 when a send is allowed now, else milliseconds until it will be."""
        now = self.clock.now_ms()
        tokens = self._tokens(key, now)
        if tokens >= 1.0:
            return 0
        return max(1, int((1.0 - tokens) * self.refill_ms + 0.999))

    def take(self, key: tuple[str, str], cost: float = 1.0) -> int:
        """Take ``cost`` tokens (at most a full bucket): 0 when taken, else ms until they will be there."""
        now = self.clock.now_ms()
        tokens = self._tokens(key, now)
        cost = min(cost, float(self.burst))
        if tokens >= cost:
            self._state[key] = (tokens - cost, now)
            return 0
        return max(1, int((cost - tokens) * self.refill_ms + 0.999))

    def refund(self, key: tuple[str, str], cost: float = 1.0) -> None:
        """Give back tokens taken for work that was then refused."""
        now = self.clock.now_ms()
        self._state[key] = (min(float(self.burst), self._tokens(key, now) + min(cost, float(self.burst))), now)

    def prune(self) -> None:
        """Forget buckets that have refilled completely."""
        now = self.clock.now_ms()
        full = [k for k in self._state if self._tokens(k, now) >= self.burst]
        for key in full:
            del self._state[key]
