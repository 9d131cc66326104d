"""Keyed, daily-rotating hashes of client addresses: what keeps a sanctioned person recognisable, and no more."""

from __future__ import annotations

import base64
import hashlib
import hmac

from crypto.keys import derive_key

DAY_MS = 86_400_000
ADDRESS_PURPOSE = b"returning-address/v1"


def utc_day(now_ms: int) -> int:
    return now_ms // DAY_MS


class AddressHasher:
    """HMAC-SHA256 of an address under a key for one UTC day, derived from the secret key.

    Hashes of one address on two days are unrelated without the secret, so a stored hash cannot be
    followed from one day to the next, and none can be turned back into the address.
    """

    def __init__(self, master: bytes) -> None:
        self._base = derive_key(master, ADDRESS_PURPOSE)

    def __repr__(self) -> str:
        return "AddressHasher(**********)"

    def _day_key(self, day: int) -> bytes:
        return hmac.new(self._base, f"day:{day}".encode(), hashlib.sha256).digest()

    def digest(self, address: str, day: int) -> str:
        raw = hmac.new(self._day_key(day), address.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
        return base64.b32encode(raw[:20]).decode("ascii").lower()

    def recent(self, address: str, now_ms: int) -> list[str]:
        """Today's and yesterday's hash of the address (a mark may have been made under either)."""
        today = utc_day(now_ms)
        return [self.digest(address, today), self.digest(address, today - 1)]
