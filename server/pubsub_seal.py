"""Messages between processes over Redis pub/sub, sealed and authenticated; forgeries and replays refused.

Anyone who can PUBLISH on Hearth's channels could otherwise deliver fake events, disconnect
members or drop staff, and read what travels there. Each message is sealed with AES-GCM under
a subkey of HEARTH_SECRET_KEY (HKDF, one purpose per channel), bound to its channel, a
timestamp and a random nonce:

    b"h1" | ts_ms (8 bytes, big-endian) | nonce (16 bytes) | AES-GCM(payload, aad=channel|ts|nonce)

A message that does not open, is older than ``MAX_AGE_MS`` (or as far in the future), or whose
nonce was already seen within that window is dropped and counted in
``hearth_pubsub_rejected_total{channel, reason}``.

A process hears its own publications back. The seal remembers the nonces it used
(``MAX_AGE_MS``, ``MAX_OWN`` at most), so the listener can drop an echo by its header
(``is_own``) without opening it: no AES-GCM, no JSON.
"""

from __future__ import annotations

import logging
import os
import struct
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

from crypto.keys import derive_key
from crypto.sealing import SealError, open_sealed, seal
from server import metrics

log = logging.getLogger(__name__)

VERSION = b"h1"
NONCE_BYTES = 16
HEADER = struct.Struct(">Q")
MAX_AGE_MS = 30_000  # clocks of the processes must agree within this (NTP does far better)
MAX_OWN = 100_000  # own nonces remembered at most (an echo older than MAX_AGE_MS is refused as stale anyway)


class Rejected(Exception):
    """A pub/sub message that is not acted on; ``reason`` is forged, stale or replayed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChannelSeal:
    def __init__(
        self,
        master_keys: Sequence[bytes],
        channel: str,
        *,
        max_age_ms: int = MAX_AGE_MS,
        now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        """``master_keys``: HEARTH_SECRET_KEY's keys, newest first (older ones open, during a rotation)."""
        purpose = b"pubsub/v1/" + channel.encode()
        self._keys = [derive_key(master, purpose) for master in master_keys]
        self.channel = channel
        self._aad = b"hearth-pubsub/v1|" + channel.encode() + b"|"
        self._max_age_ms = max_age_ms
        self._now_ms = now_ms
        self._seen: OrderedDict[bytes, int] = OrderedDict()  # nonce -> ts, oldest first
        self._own: OrderedDict[bytes, int] = OrderedDict()  # nonces this process sealed -> ts, oldest first

    def seal(self, payload: bytes) -> bytes:
        now = self._now_ms()
        nonce = os.urandom(NONCE_BYTES)
        header = HEADER.pack(now) + nonce
        own = self._own
        own[nonce] = now
        while own:  # forget publications nobody echoed back (a channel this process does not hear)
            oldest, oldest_ts = next(iter(own.items()))
            if now - oldest_ts <= self._max_age_ms and len(own) <= MAX_OWN:
                break
            del own[oldest]
        return VERSION + header + seal(self._keys[0], payload, self._aad + header)

    def is_own(self, data: bytes) -> bool:
        """Whether ``data`` is this process's own publication heard back (each is recognised once).

        Only ever used to drop a message unread, so a forgery carrying a copied nonce gains nothing.
        """
        start = len(VERSION) + HEADER.size
        nonce = data[start : start + NONCE_BYTES]
        ts = self._own.pop(nonce, None)
        if ts is None:
            return False
        self._seen[nonce] = ts  # heard once: the same bytes again are a replay
        return True

    def open(self, data: bytes) -> bytes:
        """The payload of a genuine, fresh, first-seen message; Rejected (and counted) otherwise."""
        try:
            return self._open(data)
        except Rejected as exc:
            metrics.PUBSUB_REJECTED.labels(self.channel, exc.reason).inc()
            log.warning("event=pubsub_rejected channel=%s reason=%s", self.channel, exc.reason)
            raise

    def _open(self, data: bytes) -> bytes:
        size = len(VERSION) + HEADER.size + NONCE_BYTES
        if not isinstance(data, bytes) or len(data) <= size or not data.startswith(VERSION):
            raise Rejected("forged")
        header = data[len(VERSION) : size]
        payload = None
        for k in self._keys:
            try:
                payload = open_sealed(k, data[size:], self._aad + header)
                break
            except SealError:
                continue
        if payload is None:
            raise Rejected("forged")
        (ts,) = HEADER.unpack(header[: HEADER.size])
        now = self._now_ms()
        if abs(now - ts) > self._max_age_ms:
            raise Rejected("stale")
        nonce = header[HEADER.size :]
        if nonce in self._seen:
            raise Rejected("replayed")
        self._seen[nonce] = ts
        while self._seen:  # forget nonces old enough that their message is refused as stale anyway
            oldest, oldest_ts = next(iter(self._seen.items()))
            if now - oldest_ts <= self._max_age_ms and len(self._seen) < 1_000_000:
                break
            del self._seen[oldest]
        return payload
