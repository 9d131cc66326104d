"""Hearth's Engine.IO server: python-engineio's, scoped changes only, made to follow the protocol.

Nothing here changes python-engineio for anyone else in the process: the websocket class
lives in this instance's own copy of the driver table (``_async``), and sessions are
``EngineSocket``s created by this server. What differs from the stock server:

- the handshake reports ``pingInterval``/``pingTimeout`` in whole milliseconds (python-engineio
  truncates sub-second intervals to 0);
- a POST is answered ``ok``, and a poll pending when the client closes ends with a NOOP;
- a missing or unknown ``transport`` and any method but GET, POST and OPTIONS get 400;
- a session whose ping is overdue is closed when it next makes a request (400), as Node does;
- a second websocket for a session that has upgraded (or is upgrading) is accepted and closed
  at once instead of being answered 400;
- a compressed request body is refused (415, connection closed);
- sessions are counted per address (``TransportSettings.sessions_per_address``);
- python-engineio's own error lines, which quote sids, origins and other client input, are
  replaced by one fixed line per kind.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import engineio
from aiohttp import web
from engineio import exceptions, packet

from server.transport.counters import DROPPED
from server.transport.engine_socket import EngineSocket
from server.transport.settings import TransportSettings
from server.transport.websocket import HearthWebSocket, accept_and_close

log = logging.getLogger("server.transport")
METHODS = ("GET", "POST", "OPTIONS")


class EngineServer(engineio.AsyncServer):  # type: ignore[misc]
    def __init__(self, *, transport_settings: TransportSettings | None = None, **kwargs: Any) -> None:
        settings = transport_settings or TransportSettings()
        kwargs.setdefault("ping_interval", settings.ping_interval_s)
        kwargs.setdefault("ping_timeout", settings.ping_timeout_s)
        kwargs.setdefault("max_http_buffer_size", settings.max_payload)
        kwargs.setdefault("async_mode", "aiohttp")
        super().__init__(**kwargs)
        self.settings = settings
        self._async: dict[str, Any] = dict(self._async)  # this server's own driver table: nothing process-wide changes
        self._async["websocket"] = HearthWebSocket
        self.sessions_by_address: dict[str, int] = {}
        self.closing = False  # set while draining: no new sessions
        self.session_closed = asyncio.Event()  # set whenever a session closes

    def attach(self, app: web.Application, engineio_path: str = "engine.io") -> None:
        """One route for every method, so that a wrong method gets the protocol's 400, not aiohttp's 405."""
        app.router.add_route("*", f"/{engineio_path.strip('/')}/", self.handle_request)

    async def handle_request(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        transport = query.get("transport")
        if request.method not in METHODS or (request.method != "OPTIONS" and transport not in self.transports):
            self._log_error_once("bad request", "bad-request")
            return web.Response(status=400, text='"Bad request"', content_type="text/plain")
        if request.headers.get("Content-Encoding", "identity").lower() != "identity":
            # Engine.IO clients never compress bodies; and a body aiohttp fails to decompress makes
            # its own read-to-the-end raise and log a traceback, so the connection goes now.
            self._log_error_once("content encoding", "bad-encoding")
            request.protocol.force_close()
            return web.Response(status=415, text='"Unsupported content encoding"', content_type="text/plain")
        sid = query.get("sid")
        sock = None if sid is None else self.sockets.get(sid)
        if isinstance(sock, EngineSocket) and not sock.closed:
            if request.method == "GET" and transport == "websocket" and (sock.upgraded or sock.upgrading):
                return await accept_and_close(request)  # the protocol ignores a second websocket
            if sock.overdue():
                await sock.close(wait=False, reason=self.reason.PING_TIMEOUT)
        if sock is not None and sock.closed:
            del self.sockets[sid]  # the stock POST path raises on a closed session instead of answering 400
        response: web.StreamResponse = await super().handle_request(request)
        return response

    async def _handle_connect(self, environ: dict[str, Any], transport: str, jsonp_index: int | None = None) -> Any:
        """python-engineio's handshake, with Hearth's socket class, the address cap and exact intervals."""
        if self.start_service_task:  # type: ignore[has-type]
            self.start_service_task = False
            self.service_task_handle = self.start_background_task(self._service_task)
        if self.closing:
            return _plain("503 SERVICE UNAVAILABLE", b'"The server is closing"')
        address = self.admit(environ)
        if address is False:
            return _plain("429 TOO MANY REQUESTS", b'"Too many connections from your network"')
        sid = self.generate_id()
        sock = EngineSocket(self, sid)
        sock.address = address if isinstance(address, str) else None
        self.sockets[sid] = sock
        await sock.send(
            packet.Packet(
                packet.OPEN,
                {
                    "sid": sid,
                    "upgrades": self._upgrades(sid, transport),
                    "pingTimeout": round(self.ping_timeout * 1000),
                    "pingInterval": round((self.ping_interval + self.ping_interval_grace_period) * 1000),
                    "maxPayload": self.max_http_buffer_size,
                },
            )
        )
        ret = await self._trigger_event("connect", sid, environ, run_async=False)
        if ret is not None and ret is not True:
            del self.sockets[sid]
            self.release(sock)
            return self._unauthorized(ret or None)
        sock.schedule_ping()
        if transport == "websocket":
            ret = await sock.handle_get_request(environ)
            if sock.closed and sid in self.sockets:
                del self.sockets[sid]
            return ret
        sock.connected = True
        try:
            return self._ok(await sock.poll(), jsonp_index=jsonp_index)
        except exceptions.QueueEmpty:
            return self._bad_request()

    def _ok(self, packets: Any = None, headers: Any = None, jsonp_index: int | None = None) -> dict[str, Any]:
        if packets is None and jsonp_index is None:  # the protocol's answer to a POST is "ok"
            return _plain("200 OK", b"ok")
        return super()._ok(packets, headers=headers, jsonp_index=jsonp_index)  # type: ignore[no-any-return]

    # the per-address cap --------------------------------------------------

    def admit(self, environ: dict[str, Any]) -> str | bool:
        """The address to count this new session against, True when uncounted, False when over the cap."""
        address_of = self.settings.address_of
        if address_of is None:
            return True
        address = address_of(environ)
        count = self.sessions_by_address.get(address, 0)
        if count >= self.settings.sessions_per_address:
            DROPPED.labels("address_cap").inc()  # counted, not logged: that would be a log flood
            return False
        self.sessions_by_address[address] = count + 1
        return address

    def release(self, sock: EngineSocket) -> None:
        self.session_closed.set()
        address, sock.address = sock.address, None
        if address is None:
            return
        left = self.sessions_by_address.get(address, 1) - 1
        if left > 0:
            self.sessions_by_address[address] = left
        else:
            self.sessions_by_address.pop(address, None)

    def _log_error_once(self, message: str, message_key: str) -> None:
        # The stock lines quote sids, origins and other client input; log only the fixed kind.
        if message_key not in self.log_message_keys:
            self.log_message_keys.add(message_key)
            log.info("event=engineio_refused kind=%s", message_key)


def _plain(status: str, body: bytes) -> dict[str, Any]:
    return {"status": status, "headers": [("Content-Type", "text/plain")], "response": body}
