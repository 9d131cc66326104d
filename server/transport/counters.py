"""The transport's Prometheus counters: which path a broadcast took, and what was refused or dropped."""

from __future__ import annotations

from prometheus_client import Counter

from server.metrics import REGISTRY

DIRECT_FRAMES = Counter(
    "hearth_transport_direct_frames_total",
    "Broadcast frames written straight to an idle websocket (the fast path)",
    registry=REGISTRY,
)
QUEUED_PACKETS = Counter(
    "hearth_transport_queued_packets_total",
    "Broadcast packets put on a socket's outbound queue instead",
    registry=REGISTRY,
)
REFUSED = Counter(
    "hearth_transport_refused_total",
    "Connections closed for what they sent, by reason",
    ["reason"],
    registry=REGISTRY,
)
DROPPED = Counter(
    "hearth_transport_dropped_total",
    "Connections dropped by the server, by reason (slow_consumer, connect_timeout, address_cap)",
    ["reason"],
    registry=REGISTRY,
)
