"""The websocket under an Engine.IO socket: aiohttp's, uncompressed, its request kept for the fast path."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web


class HearthWebSocket:
    """The object python-engineio's websocket handlers talk to (``send``, ``wait``, ``close``).

    No permessage-deflate: browsers offer it and aiohttp accepts it by default, which means
    a zlib pass per recipient per message; for short chat messages that costs far more CPU
    than it saves bytes (Node's ``ws`` leaves it off by default for the same reason).
    ``wait`` returns ``None`` when the peer closed, errored or sent a message over
    ``max_payload`` (aiohttp closes those with 1009).
    """

    def __init__(self, handler: Callable[[HearthWebSocket], Awaitable[None]], server: Any) -> None:
        self.handler = handler
        self.server = server
        self.response: web.WebSocketResponse | None = None
        self.request: web.Request | None = None
        self.environ: dict[str, Any] = {}

    async def __call__(self, environ: dict[str, Any]) -> web.WebSocketResponse:
        request: web.Request = environ["aiohttp.request"]
        response = web.WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=False)
        await response.prepare(request)
        self.response, self.request, self.environ = response, request, environ
        await self.handler(self)
        return response

    async def send(self, message: str | bytes) -> None:
        assert self.response is not None
        if isinstance(message, bytes):
            await self.response.send_bytes(message)
        else:
            await self.response.send_str(message)

    async def wait(self) -> str | bytes | None:
        assert self.response is not None
        msg = await self.response.receive()
        if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
            return msg.data  # type: ignore[no-any-return]
        return None

    async def close(self) -> None:
        if self.response is not None:
            with contextlib.suppress(Exception):  # a transport already aborted or reset
                await self.response.close()

    def abort(self) -> None:
        """Drop the connection at once, unsent bytes and all (a client that stopped reading)."""
        if self.request is not None and self.request.transport is not None:
            self.request.transport.abort()


async def accept_and_close(request: web.Request) -> web.WebSocketResponse:
    """Complete a websocket handshake and close it straight away: a request Engine.IO ignores."""
    response = web.WebSocketResponse(compress=False)
    await response.prepare(request)
    await response.close()
    return response
