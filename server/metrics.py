"""Prometheus metrics: counts and timings only, never text or pseudonyms in labels."""

from __future__ import annotations

import asyncio
import contextlib

from prometheus_client import GC_COLLECTOR, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)
# python_gc_collections_total and python_gc_objects_collected_total, by generation: whether full
# collections run (server/cli.py tunes them) is what keeps the cycles of closed connections bounded.
REGISTRY.register(GC_COLLECTOR)

TASKS = Gauge("hearth_asyncio_tasks", "asyncio tasks alive in this process (the soak watches it)", registry=REGISTRY)
SOCKETS = Gauge("hearth_connected_sockets", "Socket.IO connections open on this process", registry=REGISTRY)
ROOMS = Gauge("hearth_rooms", "Rooms that exist", registry=REGISTRY)
MESSAGES = Counter("hearth_messages_sent_total", "Messages accepted by this process", registry=REGISTRY)
ACKS = Counter("hearth_acks_total", "Acks answered, by event and code", ["event", "code"], registry=REGISTRY)
LATENCY = Histogram(
    "hearth_event_seconds",
    "Time to handle a client event",
    ["event"],
    registry=REGISTRY,
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
CLOSED_COLLECTION = Histogram(
    "hearth_closed_collection_seconds",
    "Full garbage collections run after sockets closed (the event loop waits for each)",
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
PURGED = Counter("hearth_purged_messages_total", "Expired messages purged", registry=REGISTRY)
KEYS_DESTROYED = Counter("hearth_destroyed_keys_total", "Room data keys destroyed", registry=REGISTRY)
PUBSUB_REJECTED = Counter(
    "hearth_pubsub_rejected_total",
    "Messages between processes dropped: forged (did not open), stale, replayed or misrouted (on another channel)",
    ["channel", "reason"],
    registry=REGISTRY,
)
# What each process receives from Redis, by kind (never by room: the labels stay a handful).
# Socket.IO pub/sub (hearth-socketio and the room channels hearth-socketio:<room> of the rooms
# hosted here), counted as it arrives, sealed: "own" is this process's own publication heard
# back (dropped unopened), "hosted" concerns a room or socket with a socket here, "foreign" one
# with none here (received and opened for nothing), "rejected" did not open.
PUBSUB_RECEIVED = Counter(
    "hearth_pubsub_received_total",
    "Socket.IO pub/sub messages received by this process, by kind (own, hosted, foreign, rejected)",
    ["kind"],
    registry=REGISTRY,
)
PUBSUB_RECEIVED_BYTES = Counter(
    "hearth_pubsub_received_bytes_total",
    "Bytes of Socket.IO pub/sub messages received by this process (sealed, as Redis sent them), by kind",
    ["kind"],
    registry=REGISTRY,
)
PUBSUB_SUBSCRIBE_LATE = Counter(
    "hearth_pubsub_subscribe_late_total",
    "Joins that went on before Redis confirmed this process's subscription to the room's channel",
    registry=REGISTRY,
)
# Room feeds (rooms/redis_feed.py): a process reads the feed entries (ids only) of the rooms it
# hosts and fetches their bodies; "foreign" counts entries of a room whose last socket here left.
FEED_ENTRIES = Counter(
    "hearth_feed_entries_read_total",
    "Room feed entries read by this process, by kind (hosted: the room has a socket here; foreign: none)",
    ["kind"],
    registry=REGISTRY,
)
FEED_BODIES = Counter(
    "hearth_feed_bodies_fetched_total", "Message bodies fetched from Redis for delivery here", registry=REGISTRY
)
FEED_BODY_BYTES = Counter(
    "hearth_feed_body_bytes_total", "Bytes of sealed message bodies fetched for delivery here", registry=REGISTRY
)


class FeedMetrics:
    """rooms.redis_feed.FeedCounts onto the counters above."""

    def __init__(self) -> None:
        self._entries = {True: FEED_ENTRIES.labels("hosted"), False: FEED_ENTRIES.labels("foreign")}

    def read(self, hosted: bool, entries: int) -> None:
        self._entries[hosted].inc(entries)

    def fetched(self, bodies: int, size: int) -> None:
        FEED_BODIES.inc(bodies)
        FEED_BODY_BYTES.inc(size)


# Counts only: never the text, the phrase that matched, a pseudonym or a member id.
CRISIS_SIGNALS = Counter("hearth_crisis_signals_total", "Messages that matched a crisis phrase", registry=REGISTRY)
SUPPORT_REQUESTS = Counter("hearth_support_requests_total", "Help requests made (support:request)", registry=REGISTRY)


def observe_event(event: str, code: str, seconds: float) -> None:
    ACKS.labels(event, code).inc()
    LATENCY.labels(event).observe(seconds)


def render() -> bytes:
    with contextlib.suppress(RuntimeError):  # outside a running loop: left as it was
        TASKS.set(len(asyncio.all_tasks()))
    return generate_latest(REGISTRY)
