"""Broadcast fan-out without a task per recipient: the one hot loop of a chat server."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from typing import Any

import socketio
from aiohttp import web
from engineio import async_socket, exceptions
from engineio.async_drivers import aiohttp as aiohttp_driver
from engineio import packet as eio_packet
from socketio import packet

log = logging.getLogger(__name__)


class _DirectEmit(socketio.AsyncManager):  # type: ignore[misc]
    """python-socketio's AsyncManager, minus one asyncio task per recipient.

    The stock ``emit`` encodes the packet once but then creates a task per recipient to
    await ``Socket.send`` (which checks the ping timeout, logs and puts the packet on the
    socket's unbounded queue). Here the same ready packet goes straight onto each queue:
    the socket's own writer task does the sending, and a socket past its ping timeout is
    closed by its reader as before. Emits with callbacks take the stock path.
    """

    async def emit(
        self, event: str, data: Any, namespace: str, room: Any = None, skip_sid: Any = None,
        callback: Any = None, to: Any = None, **kwargs: Any,
    ) -> None:
        if callback is not None:
            await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to,
                               **kwargs)
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
        parts = encoded if isinstance(encoded, list) else [encoded]
        frames = [eio_packet.Packet(eio_packet.MESSAGE, p) for p in parts]
        skip = set(skip_sid) if isinstance(skip_sid, list) else {skip_sid}
        sockets = self.server.eio.sockets
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid in skip:
                continue
            sock = sockets.get(eio_sid)
            if sock is None or sock.closed:
                continue
            for frame in frames:
                sock.queue.put_nowait(frame)


class DirectManager(_DirectEmit):
    """One process."""


class DirectRedisManager(socketio.AsyncRedisManager, _DirectEmit):  # type: ignore[misc]
    """Many processes: the Redis pub/sub manager, delivering locally through the direct path."""

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        # The stock listener backs off 1, 2, 4 ... 60 s after Redis goes away, so broadcasts
        # from other processes stayed unheard long after Redis (and the stores) were back.
        # Retry quickly instead: a subscription is cheap, and missed broadcasts are not replayed.
        delay = 0.1
        while True:
            try:
                self._redis_connect()
                await self.pubsub.subscribe(self.channel)
                delay = 0.1
                async for message in self.pubsub.listen():
                    yield message
            except Exception as exc:  # redis-py raises several kinds here; all mean "reconnect"
                log.warning("event=socketio_listen code=unavailable retry_in_s=%.1f error=%s", delay,
                            type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)


async def _poll(self: async_socket.AsyncSocket) -> list[eio_packet.Packet]:
    """engineio's ``AsyncSocket.poll`` without a task per wait.

    The stock version wraps every ``queue.get()`` in ``asyncio.wait_for``, which in
    Python 3.11 creates a task each time: once per message per recipient on the
    broadcast path, and one parked task per idle connection. Taking what is already
    queued first, and waiting under ``asyncio.timeout`` otherwise, keeps the same
    behaviour (the same timeout, ``QueueEmpty`` on timeout or cancellation).
    """
    queue = self.queue
    try:
        first = queue.get_nowait()
    except asyncio.QueueEmpty:
        try:
            async with asyncio.timeout(self.server.ping_interval + self.server.ping_timeout):
                first = await queue.get()
        except (TimeoutError, asyncio.CancelledError):
            raise exceptions.QueueEmpty() from None
    queue.task_done()
    if first is None:
        return []
    packets = [first]
    while True:
        try:
            pkt = queue.get_nowait()
        except asyncio.QueueEmpty:
            break
        queue.task_done()
        if pkt is None:
            queue.put_nowait(None)
            break
        packets.append(pkt)
    return packets


def install_transport_tweaks() -> None:
    """Process-wide changes to python-engineio 4.x's transport (see ``_poll``), and no
    per-message deflate on websockets.

    Browsers offer permessage-deflate and aiohttp accepts it by default, which means a zlib
    pass per recipient per message: for short chat messages that costs far more CPU than
    it saves bytes (Node's ``ws`` leaves it off by default for the same reason).
    """
    async_socket.AsyncSocket.poll = _poll
    aiohttp_driver.WebSocketResponse = functools.partial(web.WebSocketResponse, compress=False)
