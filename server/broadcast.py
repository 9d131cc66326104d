"""Broadcast fan-out without a task per recipient: the one hot loop of a chat server."""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import socketio
from aiohttp import web
from engineio import async_socket, exceptions
from engineio import packet as eio_packet
from engineio.async_drivers import aiohttp as aiohttp_driver
from socketio import packet

log = logging.getLogger(__name__)


def text_frame(payload: str) -> bytes:
    """One unmasked, uncompressed websocket text frame (RFC 6455 section 5.2)."""
    data = payload.encode()
    n = len(data)
    if n < 126:
        header = struct.pack("!BB", 0x81, n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x81, 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 127, n)
    return header + data


class LeanQueue:
    """The part of ``asyncio.Queue`` an Engine.IO socket uses, at a fraction of its size.

    ``asyncio.Queue`` allocates four deques (items, getters, putters, and the ``join``
    event's waiters), about 3 KB, for every connection, though an Engine.IO socket's queue
    is unbounded, has one reader (its writer task) and is empty nearly always. Here the
    items and the waiters are created when first needed. Unbounded: ``put`` never waits.
    """

    __slots__ = ("_items", "_getters", "_unfinished", "_joiners")

    def __init__(self) -> None:
        self._items: deque[Any] | None = None
        self._getters: list[asyncio.Future[None]] | None = None
        self._unfinished = 0
        self._joiners: list[asyncio.Future[None]] | None = None

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def has_waiting_reader(self) -> bool:
        return bool(self._getters)

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        self._unfinished += 1
        self._wake_reader()

    def _wake_reader(self) -> None:
        while self._getters:
            getter = self._getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                break

    async def put(self, item: Any) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.popleft()

    async def get(self) -> Any:
        while not self._items:
            getter = asyncio.get_running_loop().create_future()
            if self._getters is None:
                self._getters = []
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                if getter in self._getters:
                    self._getters.remove(getter)
                if self._items:  # woken but cancelled: pass the wake-up on
                    self._wake_reader()
                raise
        return self.get_nowait()

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0 and self._joiners:
            joiners, self._joiners = self._joiners, None
            for fut in joiners:
                if not fut.done():
                    fut.set_result(None)

    async def join(self) -> None:
        if self._unfinished:
            fut = asyncio.get_running_loop().create_future()
            if self._joiners is None:
                self._joiners = []
            self._joiners.append(fut)
            await fut


def _lean_socket_init(self: async_socket.AsyncSocket, server: Any, sid: str) -> None:
    _stock_socket_init(self, server, sid)
    self.queue = LeanQueue()


_stock_socket_init = async_socket.AsyncSocket.__init__


def _idle_transport(sock: async_socket.AsyncSocket) -> asyncio.WriteTransport | None:
    """The socket's transport when nothing is queued or in flight for it, else None.

    True when the socket is a settled websocket, its queue is empty and its writer task
    is parked in ``queue.get()`` (so it holds no packets of its own), and the transport
    has no bytes waiting: a frame written now cannot overtake anything sent earlier.
    """
    ws = getattr(sock, "hearth_ws", None)
    if ws is None or not sock.upgraded or sock.upgrading or sock.closed:
        return None
    queue = sock.queue
    if not queue.empty() or not queue.has_waiting_reader():
        return None
    writer = ws._writer
    transport = None if writer is None else writer.transport
    if transport is None or transport.is_closing() or transport.get_write_buffer_size():
        return None
    return transport  # type: ignore[no-any-return]


class _DirectEmit(socketio.AsyncManager):  # type: ignore[misc]
    """python-socketio's AsyncManager with a broadcast path that does almost nothing per recipient.

    The stock ``emit`` encodes the packet once but then creates a task per recipient to
    await ``Socket.send``, whose writer task then wakes, encodes the Engine.IO packet,
    builds a websocket frame and writes it. Here the websocket frame is built once per
    broadcast and written straight to each idle recipient's transport (see
    ``_idle_transport``); a recipient with anything queued gets the ready packet on its
    queue instead, behind what is already there. Emits with callbacks take the stock path.
    """

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
        if callback is not None:
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
        if isinstance(encoded, list):  # binary attachments: not used by Hearth, keep the stock path
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
            transport = _idle_transport(sock)
            if transport is None:
                sock.queue.put_nowait(message)
                continue
            if frame is None:
                frame = text_frame(message.encode())
            transport.write(frame)


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
                log.warning(
                    "event=socketio_listen code=unavailable retry_in_s=%.1f error=%s", delay, type(exc).__name__
                )
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
    if queue.empty():  # wait outside any except block: a parked writer holds no exception
        try:
            async with asyncio.timeout(self.server.ping_interval + self.server.ping_timeout):
                first = await queue.get()
        except (TimeoutError, asyncio.CancelledError):
            raise exceptions.QueueEmpty() from None
    else:
        first = queue.get_nowait()
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


def _schedule_ping(self: async_socket.AsyncSocket) -> None:
    """engineio's ``schedule_ping`` with a timer instead of a task asleep per connection."""
    if self.last_ping:  # only once the previous ping was answered
        self.last_ping = None
        asyncio.get_running_loop().call_later(self.server.ping_interval, _ping_now, self)


def _ping_now(sock: async_socket.AsyncSocket) -> None:
    if sock.closing or sock.closed:
        return
    sock.last_ping = time.time()
    pkt = eio_packet.Packet(eio_packet.PING)
    transport = _idle_transport(sock)
    if transport is None:
        sock.queue.put_nowait(pkt)
    else:
        transport.write(text_frame(pkt.encode()))


async def _send(self: async_socket.AsyncSocket, pkt: eio_packet.Packet) -> None:
    """engineio's ``AsyncSocket.send`` that writes straight to an idle websocket.

    Every ack and every event to one socket went on the socket's queue, woke its writer
    task, and was framed there. When nothing is queued or in flight for the socket (see
    ``_idle_transport``) the frame is written at once instead, as broadcasts are; otherwise
    the packet queues behind what is there, so order is kept either way.
    """
    if not await self.check_ping_timeout():
        return
    transport = None if pkt.binary else _idle_transport(self)
    if transport is None:
        await self.queue.put(pkt)
    else:
        transport.write(text_frame(pkt.encode()))


async def _websocket_handler(self: async_socket.AsyncSocket, ws: Any) -> None:
    """engineio's ``AsyncSocket._websocket_handler`` without two tasks per received packet.

    The stock reader wrapped every ``ws.wait()`` in a task and that task in
    ``asyncio.wait_for`` (another task in Python 3.11): two tasks created per packet received
    and one parked, with its timer, per idle connection. Here the read is awaited under
    ``asyncio.timeout`` with the same limit; everything else is engineio 4.x's code.
    """
    server = self.server
    limit = server.ping_interval + server.ping_timeout

    async def websocket_wait() -> Any:
        data = await ws.wait()
        if data and len(data) > server.max_http_buffer_size:
            raise ValueError("packet is too large")
        return data

    if self.connected:
        # the socket was already connected (long-polling), so this is an upgrade
        self.upgrading = True  # hold packet sends during the upgrade
        try:
            pkt = await websocket_wait()
        except OSError:
            return
        decoded = eio_packet.Packet(encoded_packet=pkt)
        if decoded.packet_type != eio_packet.PING or decoded.data != "probe":
            self.upgrading = False
            return
        await ws.send(eio_packet.Packet(eio_packet.PONG, data="probe").encode())
        await self.queue.put(eio_packet.Packet(eio_packet.NOOP))  # end poll
        try:
            pkt = await websocket_wait()
        except OSError:
            self.upgrading = False
            return
        decoded = eio_packet.Packet(encoded_packet=pkt)
        if decoded.packet_type != eio_packet.UPGRADE:
            self.upgraded = False
            self.upgrading = False
            return
        self.upgraded = True
        self.upgrading = False
    else:
        self.connected = True
        self.upgraded = True

    async def writer() -> None:
        while True:
            try:
                packets = await self.poll()
            except exceptions.QueueEmpty:
                break
            if not packets:  # empty packet list returned -> connection closed
                break
            try:
                for out in packets:
                    await ws.send(out.encode())
            except Exception:
                break
        await ws.close()

    writer_task = asyncio.ensure_future(writer())
    while True:
        try:
            async with asyncio.timeout(limit):
                p = await websocket_wait()
        except asyncio.CancelledError:
            break
        except Exception:  # a timeout, a closed or broken websocket, a packet too large
            break
        if p is None:  # connection closed by the client
            break
        try:
            await self.receive(eio_packet.Packet(encoded_packet=p))
        except exceptions.UnknownPacketError:
            pass
        except exceptions.SocketIsClosedError:
            break
        except Exception:
            log.exception("event=engineio_receive code=internal")
    await self.queue.put(None)  # unlock the writer task so it can exit
    await writer_task
    await self.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)


def install_transport_tweaks() -> None:
    """Process-wide changes to python-engineio 4.x's transport (``LeanQueue``, ``_poll``,
    ``_send``, ``_schedule_ping``, ``_websocket_handler``),
    and no per-message deflate on websockets.

    Browsers offer permessage-deflate and aiohttp accepts it by default, which means a zlib
    pass per recipient per message: for short chat messages that costs far more CPU than
    it saves bytes (Node's ``ws`` leaves it off by default for the same reason).
    """
    async_socket.AsyncSocket.poll = _poll
    async_socket.AsyncSocket.send = _send
    async_socket.AsyncSocket.__init__ = _lean_socket_init
    async_socket.AsyncSocket.schedule_ping = _schedule_ping
    async_socket.AsyncSocket._websocket_handler = _websocket_handler
    aiohttp_driver._async["websocket"] = _TrackedWebSocket


class _TrackedWebSocket(aiohttp_driver.WebSocket):  # type: ignore[misc]
    """engineio's aiohttp websocket, uncompressed, remembered on its Engine.IO socket."""

    async def __call__(self, environ: dict[str, Any]) -> web.WebSocketResponse:
        request = environ["aiohttp.request"]
        self._sock = web.WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=False)
        await self._sock.prepare(request)
        self.environ = environ
        owner = getattr(self.handler, "__self__", None)  # the AsyncSocket whose handler this is
        if owner is not None:
            owner.hearth_ws = self._sock
        await self.handler(self)
        return self._sock
