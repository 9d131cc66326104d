"""Per-IP limits on sessions, logins and connections: in memory only, never stored or logged."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from rooms.clock import Clock
from rooms.errors import RateLimited

WINDOW_MS = 60_000


class IpLimiter:
    """A fixed one-minute window per (kind, address)."""

    def __init__(self, clock: Clock, limits: dict[str, int], *, enabled: bool = True) -> None:
        self.clock = clock
        self.limits = limits
        self.enabled = enabled
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}  # -> (window start, count)

    def hit(self, kind: str, address: str) -> None:
        if not self.enabled:
            return
        now = self.clock.now_ms()
        start, count = self._windows.get((kind, address), (now, 0))
        if now - start >= WINDOW_MS:
            start, count = now, 0
        if count >= self.limits[kind]:
            raise RateLimited(start + WINDOW_MS - now, "Too many requests from your network; wait a moment.")
        self._windows[(kind, address)] = (start, count + 1)

    def prune(self) -> None:
        now = self.clock.now_ms()
        for key in [k for k, (start, _) in self._windows.items() if now - start >= WINDOW_MS]:
            del self._windows[key]


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[str]) -> str:
    """The client's address; X-Forwarded-For counts only when the direct peer is a trusted proxy."""
    address = peer or "unknown"
    if not forwarded_for or not trusted or not _in(address, trusted):
        return address
    # Walk from the nearest hop back, skipping our own proxies.
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not _in(hop, trusted):
            return hop
        address = hop
    return address


def _in(address: str, networks: Sequence[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n) for n in networks)
