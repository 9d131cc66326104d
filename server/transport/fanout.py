"""Broadcast fan-out without a task per recipient: the one hot loop of a chat server.

python-socketio's stock ``emit`` encodes the packet once but then creates a task per
recipient to await ``Socket.send``, whose writer task then wakes, encodes the Engine.IO
packet, builds a websocket frame and writes it. Here the websocket frame is built once per
broadcast and written straight to each idle recipient's transport (``idle_transport``); a
recipient with anything queued or in flight gets the ready packet on its bounded queue
instead, behind what is already there. Emits with callbacks, binary data, or a server whose
library internals failed the start-up check (``compat``) take the stock path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

from rooms.redis_common import stop_task
from server import metrics
from server.pubsub_seal import ChannelSeal, Rejected
from server.transport.counters import DIRECT_FRAMES, QUEUED_PACKETS
from server.transport.engine_socket import EngineSocket
from server.transport.frames import text_frame

log = logging.getLogger("server.transport")


def idle_transport(sock: Any) -> asyncio.Transport | None:
    """The socket's TCP transport when a frame may be written to it now (``EngineSocket.idle_transport``)."""
    return sock.idle_transport() if isinstance(sock, EngineSocket) else None


class DirectEmit(socketio.AsyncManager):  # type: ignore[misc]
    """python-socketio's AsyncManager with a broadcast path that does almost nothing per recipient."""

    direct: bool | None = None  # decided at start-up by compat.fast_path_allowed (or on the first emit)

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: Any = None,
        **kwargs: Any,
    ) -> None:
        if self.direct is None:
            from server.transport.compat import fast_path_allowed

            self.direct = fast_path_allowed(self.server)
        if callback is not None or not self.direct:
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs)
            return
        room = to or room
        if namespace not in self.rooms:
            return
        if isinstance(data, tuple):
            args = list(data)
        elif data is not None:
            args = [data]
        else:
            args = []
        encoded = self.server.packet_class(packet.EVENT, namespace=namespace, data=[event, *args]).encode()
        if isinstance(encoded, list):  # binary attachments: Hearth sends none, keep the stock path
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, to=to, **kwargs)
            return
        message = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        frame: bytes | None = None
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        sockets = self.server.eio.sockets
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            sock = sockets.get(eio_sid)
            if sock is None or sock.closed:
                continue
            transport = idle_transport(sock)
            if transport is None:
                if sock.enqueue(message):
                    QUEUED_PACKETS.inc()
                continue
            if frame is None:
                frame = text_frame(message.encode())
            transport.write(frame)
            DIRECT_FRAMES.inc()


class DirectManager(DirectEmit):
    """One process."""

    async def aclose(self) -> None:
        """Nothing to close: one process has no connections of its own."""


class DirectRedisManager(socketio.AsyncRedisManager, DirectEmit):  # type: ignore[misc]
    """Many processes: the Redis pub/sub manager, delivering locally through the direct path.

    What it publishes is sealed and what it hears must open (server/pubsub_seal.py): a forged
    or replayed emit, disconnect or room change is dropped and counted.
    """

    def __init__(self, url: str, *, seal: ChannelSeal, **options: Any) -> None:
        super().__init__(url, **options)
        self.seal = seal
        self.redis: Any = None  # the publishing client (``_client``)
        self.pubsub: Any = None  # the listener's subscription

    def _client(self) -> Any:
        """The publishing client, made once: its pool replaces broken connections by itself.

        (The stock manager makes a new client, and a new subscription, after every error and
        drops the old ones unclosed; and a publish error there also tore down the listener's.)
        """
        if self.redis is None:
            self._redis_connect()  # also makes a subscription object, not yet connected: the listener makes its own
        return self.redis

    async def _close_pubsub(self) -> None:
        pubsub, self.pubsub = self.pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):  # already broken: nothing more to release
                await pubsub.aclose()

    async def aclose(self) -> None:
        """Stop listening and close the connections (python-socketio leaves both open)."""
        thread = getattr(self, "thread", None)
        if thread is not None:
            self.thread = None
            await stop_task(thread)
        await self._close_pubsub()
        redis, self.redis = self.redis, None
        if redis is not None:
            with contextlib.suppress(Exception):
                await redis.aclose()

    async def _publish(self, data: Any) -> Any:
        payload = self.json.dumps(data)
        sealed = self.seal.seal(payload.encode() if isinstance(payload, str) else payload)
        for attempt in (1, 2):  # as the stock manager: try twice, then give the broadcast up
            try:
                return await self._client().publish(self.channel, sealed)
            except Exception as exc:  # redis-py raises several kinds here; all mean "not published"
                log.warning("event=socketio_publish code=unavailable attempt=%d error=%s", attempt, type(exc).__name__)
        return None

    async def _listen(self) -> AsyncIterator[Any]:
        """Each message heard, opened and decoded (the stock ``_thread`` takes a dict as it is).

        Counted by what it concerned here (``hearth_pubsub_received_*{kind}``): every process
        hears every publication, its own included, whether or not it hosts the room.
        """
        counted = _RECEIVED
        async for data in super()._listen():
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
                    kind = self._kind(message)
            messages, size = counted[kind]
            messages.inc()
            size.inc(len(data))
            if kind != "rejected":
                yield message

    def _kind(self, message: Any) -> str:
        """own (our publication heard back), hosted (a room or socket here), foreign (none here)."""
        if not isinstance(message, dict):
            return "foreign"  # the stock listener ignores it too
        method = message.get("method")
        mine = message.get("host_id") == self.host_id
        if method == "callback":  # an answer addressed to the process that asked (Hearth asks none across)
            return "hosted" if mine else "foreign"
        if mine:
            return "own"
        target = message.get("room") if method in ("emit", "close_room") else message.get("sid")
        rooms = self.rooms.get(message.get("namespace") or "/", {})
        if target is None:
            return "hosted" if rooms else "foreign"  # the whole namespace
        if isinstance(target, list):
            return "hosted" if any(rooms.get(t) for t in target) else "foreign"
        return "hosted" if rooms.get(target) else "foreign"

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        # The stock listener backs off 1, 2, 4 ... 60 s after Redis goes away, so broadcasts
        # from other processes stayed unheard long after Redis (and the stores) were back.
        # Retry quickly instead: a subscription is cheap, and missed broadcasts are not replayed.
        delay = 0.1
        while True:
            try:
                await self._close_pubsub()  # the broken one, if any
                pubsub = self.pubsub = self._client().pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(self.channel)
                delay = 0.1
                async for message in pubsub.listen():
                    yield message
            except Exception as exc:  # redis-py raises several kinds here; all mean "reconnect"
                log.warning(
                    "event=socketio_listen code=unavailable retry_in_s=%.1f error=%s", delay, type(exc).__name__
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)


CHANNEL = "hearth-socketio"
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
