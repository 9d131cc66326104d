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
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet

from server.transport.counters import DIRECT_FRAMES, QUEUED_PACKETS
from server.transport.engine_socket import EngineSocket
from server.transport.frames import text_frame


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
