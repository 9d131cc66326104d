"""Websocket frames built once and written to many transports (RFC 6455 section 5.2)."""

from __future__ import annotations

import struct


def text_frame(payload: str) -> bytes:
    """One unmasked, uncompressed, final websocket text frame carrying ``payload``."""
    data = payload.encode()
    n = len(data)
    if n < 126:
        header = struct.pack("!BB", 0x81, n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x81, 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 127, n)
    return header + data
