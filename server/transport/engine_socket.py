"""One Engine.IO session: bounded outbound queue, a poll without a task per wait, strict input.

Differences from python-engineio's ``AsyncSocket``, each for a reason:

- ``poll`` takes what is queued first and waits under ``asyncio.timeout`` otherwise (the
  websocket writer and a session's websocket reads wait without one: an overdue pong ends
  the session, and with it both): the
  stock version wraps every ``queue.get()`` in ``asyncio.wait_for``, which in Python 3.11
  creates a task each time (once per message per recipient, and one parked per idle socket).
  It also records whether the websocket writer is parked with nothing in hand, which is what
  lets a broadcast write a frame straight to the transport (``fanout.idle_transport``).
- ``send`` (acks, events to one socket, pings, the CLOSE packet) writes the websocket frame
  straight to the transport when nothing is queued or in flight for the socket
  (``idle_transport``), as broadcasts do; otherwise the packet queues behind what is there.
  The stock path put every packet on the queue and woke the writer task to frame it.
- The outbound queue is bounded (packets and bytes): a client that stops reading is dropped.
  It is an ``OutboundQueue``, which allocates nothing until something is queued.
- A malformed packet, a duplicate long-poll or an overdue pong closes the session, as the
  Engine.IO protocol says, with one short log line and no traceback.
- An upgrade ends a pending long-poll with a NOOP only when one is pending, so no stray
  NOOP reaches the websocket; a websocket read does not create a task either.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import time
from typing import Any

from aiohttp import web
from engineio import async_socket, exceptions, packet, payload

from server.transport.frames import text_frame
from server.transport.outbound_queue import OutboundQueue
from server.transport.refusals import note_dropped, note_refused
from server.transport.websocket import HearthWebSocket

DECODE_ERRORS = (ValueError, IndexError, TypeError, UnicodeDecodeError, binascii.Error)


def packet_size(pkt: packet.Packet | None) -> int:
    data = None if pkt is None else pkt.data
    return len(data) if isinstance(data, (str, bytes)) else 0


class EngineSocket(async_socket.AsyncSocket):  # type: ignore[misc]
    def __init__(self, server: Any, sid: str) -> None:
        super().__init__(server, sid)
        self.queue = OutboundQueue()  # asyncio.Queue's four deques, ~3 KB per connection, not needed
        self.ws: HearthWebSocket | None = None
        self.address: str | None = None  # counted against the per-address cap while open
        self.writer_parked = False  # the websocket writer waits on an empty queue, holding nothing
        self.polling = False  # a long-poll GET is waiting
        self.dropped = False
        self.queued_bytes = 0
        self.hearth_logged = False
        self.last_ping: float | None = self.last_ping  # when the unanswered ping was due, if any
        self.ping_timer: asyncio.TimerHandle | None = None

    # outbound --------------------------------------------------------------

    async def send(self, pkt: packet.Packet) -> None:
        if not await self.check_ping_timeout():
            return
        self.send_now(pkt)

    def send_now(self, pkt: packet.Packet) -> None:
        """Write ``pkt`` straight to an idle websocket, or queue it behind what is there."""
        transport = None if pkt.binary else self.idle_transport()
        if transport is None:
            self.enqueue(pkt)
        else:
            transport.write(text_frame(pkt.encode()))

    def idle_transport(self) -> asyncio.Transport | None:
        """The TCP transport when nothing is queued or in flight for this socket, else None.

        True when the socket is a settled websocket, its queue is empty, its writer is parked
        in ``poll`` (holding no packets of its own) and the transport has no bytes waiting: a
        frame written now cannot overtake anything sent earlier.
        """
        ws = self.ws
        if ws is None or ws.request is None or not self.upgraded or self.upgrading or self.closed or self.dropped:
            return None
        if not self.writer_parked or not self.queue.empty():
            return None
        transport = ws.request.transport
        if transport is None or transport.is_closing() or transport.get_write_buffer_size():
            return None
        return transport

    def enqueue(self, pkt: packet.Packet) -> bool:
        """Queue ``pkt`` unless that would pass the bounds, in which case drop this client."""
        if self.dropped or self.closed:
            return False
        settings = self.server.settings
        size = packet_size(pkt)
        queue = self.queue
        if queue.qsize() and (
            queue.qsize() >= settings.max_queue_packets or self.queued_bytes + size > settings.max_queue_bytes
        ):
            self.drop("slow_consumer")
            return False
        self.queued_bytes += size
        queue.put_nowait(pkt)
        return True

    async def poll(self, *, bounded: bool = True) -> list[packet.Packet]:
        """What is queued, waiting for the first packet; ``bounded``: at most one ping cycle.

        The websocket writer waits unbounded: with pings written straight to the transport
        nothing need arrive on its queue for a long time, and the reader (which times out, and
        sees every pong) ends the writer when the session ends.
        """
        queue = self.queue
        if queue.empty():  # waits outside any except block: a parked writer holds no exception
            self.writer_parked = self.upgraded
            try:
                if bounded:
                    async with asyncio.timeout(self.server.ping_interval + self.server.ping_timeout):
                        first = await queue.get()
                else:
                    first = await queue.get()
            except (TimeoutError, asyncio.CancelledError):
                raise exceptions.QueueEmpty() from None
            finally:
                self.writer_parked = False
        else:
            first = queue.get_nowait()
        queue.task_done()
        if first is None:
            return []
        self.queued_bytes -= packet_size(first)
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
            self.queued_bytes -= packet_size(pkt)
            packets.append(pkt)
        return packets

    def drop(self, reason: str) -> None:
        """Drop this client now: free its queue, cut its connection, close the session."""
        if self.dropped:
            return
        self.dropped = True
        note_dropped(self, reason)
        queue = self.queue
        while not queue.empty():
            queue.get_nowait()
            queue.task_done()
        self.queued_bytes = 0
        queue.put_nowait(None)  # wakes the writer (which exits) or a pending poll
        if self.ws is not None:
            self.ws.abort()
        self.server.start_background_task(self.close, wait=False, abort=True, reason=self.server.reason.TRANSPORT_ERROR)

    async def close(self, wait: bool = True, abort: bool = False, reason: str | None = None) -> None:
        if self.closed or self.closing:
            return
        await super().close(wait=False, abort=abort, reason=reason)
        self.server.release(self)
        if self.ping_timer is not None:
            self.ping_timer.cancel()
            self.ping_timer = None
        if abort and self.polling and not self.upgraded:
            self.queue.put_nowait(packet.Packet(packet.NOOP))  # a pending poll ends cleanly, with a NOOP
        if (abort or self.upgraded) and not self.dropped:  # a drop has queued its own end marker
            self.queue.put_nowait(None)  # end the websocket writer (after the CLOSE packet) or a poll
        if wait and not abort:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(self.server.ping_timeout, 5.0)):
                    await self.queue.join()

    async def receive(self, pkt: packet.Packet) -> None:
        if pkt.packet_type not in (packet.PONG, packet.MESSAGE, packet.UPGRADE, packet.CLOSE):
            raise exceptions.UnknownPacketError()  # python-engineio indexes a list with any digit
        if pkt.packet_type != packet.PONG and self.last_ping:
            self.last_ping = time.time()  # any packet shows the client is alive, as in Node's engine.io
        await super().receive(pkt)

    def schedule_ping(self) -> None:
        """The next ping, due one interval from now; its timeout counts from when it was due.

        python-engineio stamps the ping when its sleep ends, so a busy loop that wakes late
        also stretches the timeout; here both are fixed when the ping is scheduled. A timer
        (``call_later``), not a task asleep per connection (with its coroutine frame).
        """
        if self.last_ping:
            self.last_ping = None
            interval = self.server.ping_interval
            loop = asyncio.get_running_loop()
            self.ping_timer = loop.call_later(interval, self._ping_due, time.time() + interval)

    def _ping_due(self, due: float) -> None:
        self.ping_timer = None
        if not self.closing and not self.closed:
            self.last_ping = due
            self.send_now(packet.Packet(packet.PING))

    def overdue(self) -> bool:
        """True when a ping went unanswered for longer than the ping timeout."""
        last_ping = self.last_ping
        return last_ping is not None and time.time() - last_ping > self.server.ping_timeout

    # long-polling -----------------------------------------------------------

    async def handle_get_request(self, environ: dict[str, Any]) -> Any:
        connections = [s.strip() for s in environ.get("HTTP_CONNECTION", "").lower().split(",")]
        if "upgrade" in connections and environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            return await self._open_websocket(environ)
        if self.upgrading or self.upgraded:
            return [packet.Packet(packet.NOOP)]  # the websocket carries everything from here on
        if self.polling:  # two polls at once: the protocol closes the session
            note_refused(self, "duplicate_poll")
            await self.close(wait=False, reason=self.server.reason.TRANSPORT_ERROR)
            raise exceptions.EngineIOError()
        self.polling = True
        try:
            return await self.poll()
        except exceptions.QueueEmpty:
            await self.close(wait=False, reason=self.server.reason.TRANSPORT_ERROR)
            raise
        finally:
            self.polling = False

    async def handle_post_request(self, environ: dict[str, Any]) -> None:
        try:
            length = int(environ.get("CONTENT_LENGTH") or "0")
        except ValueError:
            length = -1
        if length < 0 or length > self.server.max_http_buffer_size:
            note_refused(self, "too_large" if length > 0 else "malformed")
            await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_ERROR)
            raise exceptions.ContentTooLongError()
        try:
            body = await environ["wsgi.input"].read(length)
            packets = payload.Payload(encoded_payload=body.decode("utf-8")).packets
        except (*DECODE_ERRORS, OSError, web.RequestPayloadError) as exc:
            if isinstance(exc, web.RequestPayloadError):
                # A body aiohttp cannot decode (a stray Content-Encoding): its own read-to-the-end of
                # the rest would raise again and log a traceback, so the connection goes now.
                environ["aiohttp.request"].protocol.force_close()
            note_refused(self, "malformed")
            await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_ERROR)
            raise exceptions.EngineIOError() from None
        for pkt in packets:
            try:
                await self.receive(pkt)
            except exceptions.UnknownPacketError:
                note_refused(self, "malformed")
                await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_ERROR)
                raise
            if self.closed:
                break

    # websocket --------------------------------------------------------------

    async def _open_websocket(self, environ: dict[str, Any]) -> Any:
        ws_class = self.server._async["websocket"]
        return await ws_class(self._serve_websocket, self.server)(environ)

    async def _ws_read(self, ws: HearthWebSocket, *, bounded: bool = False) -> packet.Packet | None:
        """The next packet from the websocket, or None when it closed, timed out or sent garbage.

        Only the upgrade's probe reads are ``bounded`` (one ping cycle). A session's reads wait
        without a timer: a peer that has gone silent stops answering pings, the engine's service
        task closes the session once a pong is overdue (``check_ping_timeout``), and closing
        the websocket ends this read. (A timeout per read cost a timer per received packet and
        about 0.7 KB per idle connection.)
        """
        try:
            if bounded:
                async with asyncio.timeout(self.server.ping_interval + self.server.ping_timeout):
                    data = await ws.wait()
            else:
                data = await ws.wait()
        except (TimeoutError, OSError):
            return None
        if data is None:
            return None
        try:
            return packet.Packet(encoded_packet=data)
        except DECODE_ERRORS:
            note_refused(self, "malformed")
            return None

    async def _serve_websocket(self, ws: HearthWebSocket) -> None:
        if self.connected:  # type: ignore[has-type]  # an upgrade from long-polling
            self.upgrading = True
            probe = await self._ws_read(ws, bounded=True)
            if probe is None or probe.packet_type != packet.PING or probe.data != "probe":
                self.upgrading = False
                return
            await ws.send(packet.Packet(packet.PONG, data="probe").encode())
            if self.polling:
                self.queue.put_nowait(packet.Packet(packet.NOOP))  # ends the pending poll
            upgrade = await self._ws_read(ws, bounded=True)
            if upgrade is None or upgrade.packet_type != packet.UPGRADE:
                self.upgrading = False
                return
            self.ws = ws
            self.upgraded = True
            self.upgrading = False
        else:
            self.ws = ws
            self.connected = True
            self.upgraded = True
        writer = asyncio.ensure_future(self._ws_writer(ws))
        try:
            while not self.closed:
                pkt = await self._ws_read(ws)
                if pkt is None:
                    break
                try:
                    await self.receive(pkt)
                except exceptions.UnknownPacketError:
                    note_refused(self, "malformed")
                    break
                except exceptions.SocketIsClosedError:
                    break
        finally:
            if not self.dropped:  # a drop has queued its own end marker
                self.queue.put_nowait(None)  # unlock the writer so it can exit
            await writer
            await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)

    async def _ws_writer(self, ws: HearthWebSocket) -> None:
        while True:
            try:
                packets = await self.poll(bounded=False)
            except exceptions.QueueEmpty:
                break
            if not packets:
                break
            try:
                for pkt in packets:
                    await ws.send(pkt.encode())
            except Exception:  # the peer went away mid-write: the reader ends the session
                break
        await ws.close()
