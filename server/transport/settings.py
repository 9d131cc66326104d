"""The transport's settings: heartbeats, sizes and the bounds that keep one client from pinning memory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Environ = dict[str, Any]


@dataclass(frozen=True)
class TransportSettings:
    """What Hearth's Engine.IO and Socket.IO servers are built with.

    ``max_queue_packets`` and ``max_queue_bytes`` bound each socket's outbound queue: a
    client that stops reading fills it, and is then dropped instead of holding memory.
    A single packet larger than ``max_queue_bytes`` is still sent when the queue is empty.
    ``sessions_per_address`` caps the Engine.IO sessions open at once from one address
    (counted from the handshake, so sessions that never send a Socket.IO CONNECT count too);
    ``address_of`` tells the address of a request, ``None`` turns the cap off.
    """

    ping_interval_s: float = 20.0
    ping_timeout_s: float = 20.0
    max_payload: int = 1024 * 1024
    connect_timeout_s: float = 10.0
    max_queue_packets: int = 1000
    max_queue_bytes: int = 4 * 1024 * 1024
    sessions_per_address: int = 64
    address_of: Callable[[Environ], str] | None = None
