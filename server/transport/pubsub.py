"""Many processes: the Redis pub/sub client manager, sealed, one channel per room.

``DirectRedisManager`` is python-socketio's Redis manager with Hearth's local delivery
(``fanout.DirectEmit``), sealed messages (``server/pubsub_seal.py``), a quick reconnect, and
a channel per Socket.IO room so that each process hears only the rooms it hosts.
``make_manager`` picks it, or the one-process ``fanout.DirectManager``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

import socketio

from rooms.redis_common import stop_task
from server import metrics
from server.pubsub_seal import ChannelSeal, Rejected
from server.transport.fanout import DirectEmit, DirectManager

log = logging.getLogger("server.transport")


def _has_channel(room: Any) -> bool:
    """Whether a Socket.IO room has a pub/sub channel of its own: Hearth's rooms have a ``:``, sids never do."""
    return isinstance(room, str) and ":" in room


class _Subscriptions:
    """The room channels asked for on one pub/sub connection, and those Redis has confirmed."""

    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub
        self.sent: set[str] = set()  # SUBSCRIBE sent (and not unsubscribed since)
        self.heard: set[str] = set()  # of those, confirmed: a PING sent after them has been answered
        self.pending: dict[str, str] = {}  # channel not yet heard -> the PING sent after its latest SUBSCRIBE


class DirectRedisManager(socketio.AsyncRedisManager, DirectEmit):  # type: ignore[misc]
    """Many processes: the Redis pub/sub manager, delivering locally through the direct path.

    What it publishes is sealed and what it hears must open (server/pubsub_seal.py): a forged
    or replayed emit, disconnect or room change is dropped and counted.

    A process hears only the rooms it hosts. An emit to one of Hearth's rooms (``r:<room>``,
    ``s:<room>``, ``waiting:...``: names with a ``:``, which sids never have) is published on
    that room's own channel, ``hearth-socketio:<room>``; the process subscribes to it when its
    first socket enters the room and unsubscribes when its last leaves. Everything else
    (emits to one socket or to ``admins``, remote disconnects and room changes) stays on the
    shared channel every process hears. ``enter_room`` returns only once Redis has confirmed
    the room's subscription, so nothing published to the room after a join's ack is missed.
    Its own publications heard back are dropped before they are opened (``ChannelSeal.is_own``).
    """

    def __init__(self, url: str, *, seal: ChannelSeal, **options: Any) -> None:
        super().__init__(url, **options)
        self.seal = seal
        self.redis: Any = None  # the publishing client (``_client``)
        self.pubsub: Any = None  # the listener's subscription
        self._room_prefix = self.channel + ":"
        self._subs: _Subscriptions | None = None  # the current connection's room channels
        self._changed = asyncio.Event()  # a room channel to subscribe or unsubscribe
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}  # channel -> joins waiting for it
        self._syncer: asyncio.Task[None] | None = None

    def channel_for(self, message: dict[str, Any]) -> str:
        """The channel a publication goes on: a room emit on its room's, everything else on the shared one."""
        room = message.get("room") if message.get("method") == "emit" else None
        if _has_channel(room):
            return f"{self._room_prefix}{room}"
        return str(self.channel)

    def _client(self) -> Any:
        """The publishing client, made once: its pool replaces broken connections by itself.

        (The stock manager makes a new client, and a new subscription, after every error and
        drops the old ones unclosed; and a publish error there also tore down the listener's.)
        """
        if self.redis is None:
            self._redis_connect()  # also makes a subscription object, not yet connected: the listener makes its own
        return self.redis

    async def _close_pubsub(self) -> None:
        pubsub, self.pubsub, self._subs = self.pubsub, None, None
        if pubsub is not None:
            with contextlib.suppress(Exception):  # already broken: nothing more to release
                await pubsub.aclose()

    async def aclose(self) -> None:
        """Stop listening and close the connections (python-socketio leaves both open)."""
        thread = getattr(self, "thread", None)
        if thread is not None:
            self.thread = None
            await stop_task(thread)
        syncer, self._syncer = self._syncer, None
        if syncer is not None:
            await stop_task(syncer)
        await self._close_pubsub()
        redis, self.redis = self.redis, None
        if redis is not None:
            with contextlib.suppress(Exception):
                await redis.aclose()

    async def _publish(self, data: Any) -> Any:
        payload = self.json.dumps(data)
        sealed = self.seal.seal(payload.encode() if isinstance(payload, str) else payload)
        channel = self.channel_for(data)
        for attempt in (1, 2):  # as the stock manager: try twice, then give the broadcast up
            try:
                return await self._client().publish(channel, sealed)
            except Exception as exc:  # redis-py raises several kinds here; all mean "not published"
                log.warning("event=socketio_publish code=unavailable attempt=%d error=%s", attempt, type(exc).__name__)
        return None

    # Room channels: which this process hears.

    def _room_channels(self) -> set[str]:
        """The room channels this process should hear: one per room with a local socket in it."""
        prefix = self._room_prefix
        return {prefix + room for room in self.rooms.get(NS, {}) if _has_channel(room)}

    def basic_enter_room(self, sid: str, namespace: str, room: str, eio_sid: Any = None) -> None:
        super().basic_enter_room(sid, namespace, room, eio_sid=eio_sid)
        if _has_channel(room) and (self._subs is None or self._room_prefix + room not in self._subs.sent):
            self._changed.set()

    def basic_leave_room(self, sid: str, namespace: str, room: str) -> None:
        super().basic_leave_room(sid, namespace, room)
        if _has_channel(room) and room not in self.rooms.get(namespace, {}):
            self._changed.set()

    async def enter_room(self, sid: str, namespace: str, room: str, eio_sid: Any = None) -> None:
        await super().enter_room(sid, namespace, room, eio_sid=eio_sid)
        if _has_channel(room) and room in self.rooms.get(namespace, {}):  # a local socket (a remote one was published)
            await self._heard(self._room_prefix + room)

    async def _heard(self, channel: str) -> None:
        """Wait until Redis has confirmed this process's subscription to a room channel (at most SUBSCRIBE_WAIT_S).

        Past the bound (Redis down or slow) the join goes on: the subscription is made as soon
        as the listener is connected again, and what is published meanwhile is lost as any
        broadcast during an outage is.
        """
        subs = self._subs
        if subs is not None and channel in subs.heard:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(channel, []).append(waiter)
        self._changed.set()
        try:
            async with asyncio.timeout(SUBSCRIBE_WAIT_S):
                await waiter
        except TimeoutError:
            metrics.PUBSUB_SUBSCRIBE_LATE.inc()
            log.warning("event=socketio_subscribe code=unavailable waited_s=%.1f", SUBSCRIBE_WAIT_S)
        finally:
            waiting = self._waiters.get(channel)
            if waiting is not None and waiter in waiting:
                waiting.remove(waiter)
                if not waiting:
                    del self._waiters[channel]

    def _confirmed(self, token: Any) -> None:
        """A PING came back: the channels whose latest SUBSCRIBE went before it are heard; their joins go on."""
        subs = self._subs
        if subs is None:
            return
        key = token.decode() if isinstance(token, bytes) else str(token)
        for channel in [c for c, t in subs.pending.items() if t == key]:  # not subscribed again since
            del subs.pending[channel]
            subs.heard.add(channel)
            self._release(channel)

    def _release(self, channel: str) -> None:
        for waiter in self._waiters.pop(channel, ()):
            if not waiter.done():
                waiter.set_result(None)

    async def _sync_rooms(self) -> None:
        """Subscribe to the room channels this process now hosts, unsubscribe from the rest, then PING.

        One task does it for the whole process, so the commands on the listener's connection
        keep their order; Redis answers the PING only after it has handled the commands sent
        before it, which is what makes a subscription confirmed.
        """
        while True:
            await self._changed.wait()
            self._changed.clear()
            subs = self._subs
            if subs is None:
                continue  # not listening: the listener sets _changed once it is
            want = self._room_channels()
            for channel in [c for c in self._waiters if c not in want]:
                self._release(channel)  # its socket left before the subscription was confirmed
            add, drop = want - subs.sent, subs.sent - want
            if not add and not drop:
                continue
            token = secrets.token_hex(8)
            subs.sent = (subs.sent | add) - drop
            subs.heard -= drop
            for channel in drop:
                subs.pending.pop(channel, None)
            for channel in add:
                subs.pending[channel] = token
            try:
                if add:
                    await subs.pubsub.subscribe(*add)
                if drop:
                    await subs.pubsub.unsubscribe(*drop)
                await subs.pubsub.ping(token)
            except Exception as exc:  # the listener sees the broken connection too, reconnects, and asks again
                log.warning("event=socketio_subscribe code=unavailable error=%s", type(exc).__name__)

    async def _listen(self) -> AsyncIterator[Any]:
        """Each message heard, opened and decoded (the stock ``_thread`` takes a dict as it is).

        Counted by what it concerned here (``hearth_pubsub_received_*{kind}``): own (its own
        publication heard back, dropped unopened), hosted (a room or socket here), foreign
        (none here: the shared channel's traffic for other processes), rejected.
        """
        counted = _RECEIVED
        shared = self.channel.encode()
        prefix = self._room_prefix.encode()
        async for item in self._redis_listen_with_retries():
            kind = item.get("type")
            if kind == "pong":
                self._confirmed(item.get("data"))
                continue
            channel = item.get("channel")
            if kind != "message" or not isinstance(channel, bytes):
                continue
            if channel != shared and not channel.startswith(prefix):
                continue
            data = item.get("data")
            message = None
            if self.seal.is_own(data):
                kind = "own"
            else:
                try:
                    opened = self.seal.open(data)
                except Rejected:
                    kind = "rejected"  # logged and counted by the seal too
                else:
                    try:
                        message = self.json.loads(opened)
                    except ValueError:
                        kind = "rejected"
                    else:
                        kind = self._kind(message, channel.decode())
            messages, size = counted[kind]
            messages.inc()
            size.inc(len(data))
            if kind in ("hosted", "foreign"):
                yield message

    def _kind(self, message: Any, channel: str) -> str:
        """own, hosted (a room or socket here), foreign (none here), rejected (heard on a channel not its own)."""
        if not isinstance(message, dict):
            return "foreign"  # the stock listener ignores it too
        if self.channel_for(message) != channel:  # sealed, but moved to another channel than it was sent on
            metrics.PUBSUB_REJECTED.labels(self.channel, "misrouted").inc()
            log.warning("event=pubsub_rejected channel=%s reason=misrouted", self.channel)
            return "rejected"
        method = message.get("method")
        mine = message.get("host_id") == self.host_id
        if method == "callback":  # an answer addressed to the process that asked (Hearth asks none across)
            return "hosted" if mine else "foreign"
        if mine:
            return "own"  # not recognised by its nonce (forgotten past MAX_OWN): dropped all the same
        target = message.get("room") if method in ("emit", "close_room") else message.get("sid")
        rooms = self.rooms.get(message.get("namespace") or NS, {})
        if target is None:
            return "hosted" if rooms else "foreign"  # the whole namespace
        if isinstance(target, list):
            return "hosted" if any(rooms.get(t) for t in target) else "foreign"
        return "hosted" if rooms.get(target) else "foreign"

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        # The stock listener backs off 1, 2, 4 ... 60 s after Redis goes away, so broadcasts
        # from other processes stayed unheard long after Redis (and the stores) were back.
        # Retry quickly instead: a subscription is cheap, and missed broadcasts are not replayed.
        if self._syncer is None:
            self._syncer = asyncio.create_task(self._sync_rooms(), name="hearth-pubsub-rooms")
        delay = 0.1
        while True:
            try:
                await self._close_pubsub()  # the broken one, if any
                pubsub = self._client().pubsub(ignore_subscribe_messages=True)
                self.pubsub = pubsub
                await pubsub.subscribe(self.channel)
                self._subs = _Subscriptions(pubsub)  # every hosted room's channel again, on this connection
                self._changed.set()
                delay = 0.1
                async for message in pubsub.listen():
                    yield message
            except Exception as exc:  # redis-py raises several kinds here; all mean "reconnect"
                log.warning(
                    "event=socketio_listen code=unavailable retry_in_s=%.1f error=%s", delay, type(exc).__name__
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)


CHANNEL = "hearth-socketio"  # the shared channel; a room's is CHANNEL + ":" + the Socket.IO room
NS = "/"
SUBSCRIBE_WAIT_S = 2.0  # a join waits at most this for Redis to confirm its room's channel
_RECEIVED = {
    kind: (metrics.PUBSUB_RECEIVED.labels(kind), metrics.PUBSUB_RECEIVED_BYTES.labels(kind))
    for kind in ("own", "hosted", "foreign", "rejected")
}


def make_manager(redis_url: str | None, secret_keys: tuple[bytes, ...] = ()) -> DirectManager | DirectRedisManager:
    """The client manager for one process, or for many over Redis pub/sub (sealed JSON, connects lazily)."""
    if redis_url is None:
        return DirectManager()
    if not secret_keys:
        raise ValueError("Redis pub/sub needs HEARTH_SECRET_KEY to seal its messages")
    return DirectRedisManager(
        redis_url,
        seal=ChannelSeal(secret_keys, CHANNEL),
        channel=CHANNEL,
        redis_options={"socket_connect_timeout": 2, "socket_timeout": 2},
    )
