"""A raw websocket client over a plain TCP stream: it reads only when told to, and sends any bytes.

The server's behaviour towards clients that misbehave at the frame level (stop reading, send
garbage, binary, oversize frames) can only be tested with a client that does not manage the
connection for us, so this one does the RFC 6455 handshake and framing by hand.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
from urllib.parse import urlsplit


class RawWebSocket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def connect(cls, url: str, path: str, *, rcvbuf: int | None = None) -> RawWebSocket:
        parts = urlsplit(url)
        sock = socket.socket()
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=2**22)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            writer.close()
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode())
        return cls(reader, writer)

    def send_frame(self, opcode: int, data: bytes, *, fin: bool = True) -> None:
        mask = os.urandom(4)
        n = len(data)
        first = (0x80 if fin else 0) | opcode
        if n < 126:
            header = struct.pack("!BB", first, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", first, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", first, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.writer.write(header + mask + masked)

    def send_text(self, text: str) -> None:
        self.send_frame(0x1, text.encode())

    def send_binary(self, data: bytes) -> None:
        self.send_frame(0x2, data)

    async def recv(self) -> tuple[int, bytes] | None:
        """The next frame's opcode and payload, or None when the connection is gone."""
        try:
            b1, b2 = await self.reader.readexactly(2)
            n = b2 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
            return b1 & 0x0F, await self.reader.readexactly(n)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None

    async def recv_text(self) -> str | None:
        """The next text frame (pings of Engine.IO included); None on a close frame or a closed connection."""
        while True:
            frame = await self.recv()
            if frame is None or frame[0] == 0x8:
                return None
            if frame[0] == 0x1:
                return frame[1].decode()

    async def closed(self) -> bool:
        """Read until the server closes the connection; True once it has."""
        while True:
            frame = await self.recv()
            if frame is None or frame[0] == 0x8:
                return True

    async def aclose(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass
