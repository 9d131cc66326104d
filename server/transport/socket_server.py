"""Hearth's Socket.IO server: python-socketio's, reading only what Hearth speaks.

Every Socket.IO packet is parsed here, once, before any handler sees it:

- Hearth speaks JSON only: a binary packet (an attachment header such as ``451-[...]``, or a
  binary frame) closes the connection at the first frame; no attachment is ever buffered.
- An EVENT must carry a non-empty list whose first item is a string, an ACK a list, a CONNECT
  nothing or an object; anything else (bad JSON, a bad ack id, an unknown type) closes the
  connection. Each refusal is counted, with at most one short log line per connection.
- A CONNECT to a namespace nobody serves is answered ``{"message": "Invalid namespace"}``.
- An Engine.IO session that has not joined a namespace within ``connect_timeout_s`` is closed.
- While the server drains (``drain.Drain``), events are answered ``closing_reply`` instead of run.
"""

from __future__ import annotations

import asyncio
from typing import Any

import socketio
from socketio import packet

from server.transport.compat import fast_path_allowed
from server.transport.drain import Drain
from server.transport.engine_server import EngineServer
from server.transport.fanout import DirectEmit
from server.transport.refusals import note_dropped, note_refused
from server.transport.settings import TransportSettings

INVALID_NAMESPACE = {"message": "Invalid namespace"}
CLOSING = {"message": "The server is closing."}


class TransportServer(socketio.AsyncServer):  # type: ignore[misc]
    def __init__(self, *, transport_settings: TransportSettings | None = None, **kwargs: Any) -> None:
        settings = transport_settings or TransportSettings()
        self.transport_settings = settings
        self._connect_deadlines: dict[str, asyncio.TimerHandle] = {}
        self.drain = Drain(self)
        kwargs.setdefault("async_mode", "aiohttp")
        super().__init__(transport_settings=settings, **kwargs)
        if isinstance(self.manager, DirectEmit):  # the start-up check of what the fast path relies on
            self.manager.direct = fast_path_allowed(self)

    def _engineio_server_class(self) -> type[EngineServer]:
        return EngineServer

    # the connect timeout -----------------------------------------------------

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        result = await super()._handle_eio_connect(eio_sid, environ)
        loop = asyncio.get_running_loop()
        self._connect_deadlines[eio_sid] = loop.call_later(
            self.transport_settings.connect_timeout_s, self._connect_overdue, eio_sid
        )
        return result

    def _connect_overdue(self, eio_sid: str) -> None:
        self._connect_deadlines.pop(eio_sid, None)
        sock = self.eio.sockets.get(eio_sid)
        if sock is None or sock.closed or sock.closing:
            return
        note_dropped(sock, "connect_timeout")
        self.start_background_task(sock.close, wait=False, reason=self.reason.SERVER_DISCONNECT)

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any = None) -> None:
        deadline = self._connect_deadlines.pop(eio_sid, None)
        if deadline is not None:
            deadline.cancel()
        await super()._handle_eio_disconnect(eio_sid, reason)

    # strict parsing ------------------------------------------------------------

    async def _handle_eio_message(self, eio_sid: str, data: str | bytes) -> None:
        if not isinstance(data, str):
            await self._refuse(eio_sid, "binary")
            return
        try:
            pkt = self.packet_class(encoded_packet=data)
        except Exception:  # the JSON hook, int() and the packet decoder raise several kinds
            await self._refuse(eio_sid, "malformed")
            return
        kind, body = pkt.packet_type, pkt.data
        if kind in (packet.BINARY_EVENT, packet.BINARY_ACK) or pkt.attachment_count:
            await self._refuse(eio_sid, "binary")
        elif kind == packet.EVENT and isinstance(body, list) and body and isinstance(body[0], str):
            await self._handle_event(eio_sid, pkt.namespace, pkt.id, body)
        elif kind == packet.ACK and isinstance(body, list) and pkt.id is not None:
            await self._handle_ack(eio_sid, pkt.namespace, pkt.id, body)
        elif kind == packet.CONNECT and (body is None or isinstance(body, dict)):
            await self._handle_connect(eio_sid, pkt.namespace, body)
        elif kind == packet.DISCONNECT:
            await self._handle_disconnect(eio_sid, pkt.namespace, self.reason.CLIENT_DISCONNECT)
        else:
            await self._refuse(eio_sid, "malformed")

    async def _handle_event(self, eio_sid: str, namespace: str | None, id: int | None, data: list[Any]) -> None:
        drain = self.drain
        if drain.closing:  # answered, not run: the server is going away
            if id is not None:
                reply = self.packet_class(packet.ACK, namespace=namespace or "/", id=id, data=[drain.closing_reply])
                await self._send_packet(eio_sid, reply)
            return
        drain.started()
        try:
            await super()._handle_event(eio_sid, namespace, id, data)
        finally:
            drain.finished()

    async def _refuse(self, eio_sid: str, reason: str) -> None:
        sock = self.eio.sockets.get(eio_sid)
        note_refused(sock, reason)
        if sock is not None and not sock.closed:
            await sock.close(wait=False, abort=True, reason=self.reason.TRANSPORT_ERROR)

    async def _handle_connect(self, eio_sid: str, namespace: str | None, data: Any) -> None:
        namespace = namespace or "/"
        served = (
            namespace in self.handlers
            or namespace in self.namespace_handlers
            or self.namespaces == "*"
            or namespace in self.namespaces
        )
        if not served or self.drain.closing:
            reason = CLOSING if self.drain.closing else INVALID_NAMESPACE
            refusal = self.packet_class(packet.CONNECT_ERROR, data=reason, namespace=namespace)
            await self._send_packet(eio_sid, refusal)
            return
        await super()._handle_connect(eio_sid, namespace, data)
        if self.manager.sid_from_eio_sid(eio_sid, namespace) is not None:
            deadline = self._connect_deadlines.pop(eio_sid, None)
            if deadline is not None:
                deadline.cancel()
