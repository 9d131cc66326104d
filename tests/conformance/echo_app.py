"""The echo server the official Socket.IO and Engine.IO protocol test suites run against.

``python -m tests.conformance.echo_app PORT`` serves, on one port, Hearth's own Socket.IO server
(``TransportServer``) at ``/socket.io/`` and Hearth's own Engine.IO server (``EngineServer``) at
``/engine.io/``, with the echo handlers and settings the suites' READMEs give: ping interval
300 ms, ping timeout 200 ms, max payload 1,000,000 bytes, connect timeout 1 s, any origin.
"""

from __future__ import annotations

import sys
from typing import Any

from aiohttp import web

from server.transport import EngineServer, TransportServer, TransportSettings

SETTINGS = TransportSettings(ping_interval_s=0.3, ping_timeout_s=0.2, max_payload=1_000_000, connect_timeout_s=1.0)


def socketio_echo() -> TransportServer:
    sio = TransportServer(transport_settings=SETTINGS, cors_allowed_origins="*", async_handlers=False)

    for namespace in ("/", "/custom"):

        async def connect(sid: str, environ: dict[str, Any], auth: Any = None, namespace: str = namespace) -> None:
            sio.start_background_task(send_auth, sid, auth or {}, namespace)

        async def send_auth(sid: str, auth: Any, namespace: str = namespace) -> None:
            # After the CONNECT packet, as Node's `socket.emit("auth", socket.handshake.auth)` is, and
            # a moment later: the suite's `ws` client emits the messages of one TCP read synchronously,
            # before the test has attached its next listener, so two frames read together lose the
            # second. Node's engine.io happens to write them an event-loop turn apart.
            await sio.sleep(0.01)
            await sio.emit("auth", auth, to=sid, namespace=namespace)

        async def message(sid: str, *args: Any, namespace: str = namespace) -> None:
            await sio.emit("message-back", args, to=sid, namespace=namespace)

        async def message_with_ack(sid: str, *args: Any) -> tuple[Any, ...]:
            return args

        sio.on("connect", connect, namespace=namespace)
        sio.on("message", message, namespace=namespace)
        sio.on("message-with-ack", message_with_ack, namespace=namespace)
    return sio


def engineio_echo() -> EngineServer:
    eio = EngineServer(transport_settings=SETTINGS, cors_allowed_origins="*")

    async def message(sid: str, data: Any) -> None:
        await eio.send(sid, data)

    eio.on("message", message)
    return eio


def make_app() -> web.Application:
    app = web.Application()
    socketio_echo().attach(app, "socket.io")
    engineio_echo().attach(app, "engine.io")
    return app


def main(argv: list[str]) -> None:
    port = int(argv[1]) if len(argv) > 1 else 3000
    web.run_app(make_app(), host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main(sys.argv)
