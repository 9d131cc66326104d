"""Logging set-up: key=value lines with ids, codes and timings only.

Nothing a client wrote reaches a log line unescaped, and some things never reach one at all:
tokens, query strings, Engine.IO/Socket.IO sids (a per-process hash stands in: ``conn_tag``),
client addresses, message text and pseudonyms.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import sys
from typing import Any

from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web import BaseRequest, StreamResponse

_TAG_SALT = secrets.token_bytes(16)  # per process: a tag cannot be turned back into a sid
_MAX_FIELD = 200


def setup(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # engineio/socketio loggers can print whole payloads; keep them quiet.
    for name in ("engineio", "socketio", "engineio.server", "socketio.server"):
        logging.getLogger(name).setLevel(logging.WARNING)
    guard_library_loggers()


class _LibraryLines(logging.Filter):
    """aiohttp's own lines about a request name the client's address and quote what it sent
    (a bad request line, its protocols): drop or rewrite them before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "aiohttp.websocket" and record.levelno >= logging.WARNING:
            record.msg, record.args = "event=websocket_protocols_refused", ()
            return True
        if record.getMessage().startswith("Error handling request"):
            exc = record.exc_info[1] if record.exc_info else None
            if isinstance(exc, HttpProcessingError):
                return False  # malformed HTTP: the access log's one line (status 400) says enough
            record.msg, record.args = "event=http_error kind=%s", (type(exc).__name__,)
        return True


_FILTER = _LibraryLines()


def guard_library_loggers() -> None:
    """Install the filter on aiohttp's loggers (idempotent): ``hearth`` and the tests' servers alike."""
    for name in ("aiohttp.server", "aiohttp.websocket"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def conn_tag(sid: str) -> str:
    """A short stand-in for a sid in log lines: stable within a process, not reversible."""
    return hashlib.blake2s(sid.encode("utf-8", "replace"), key=_TAG_SALT, digest_size=4).hexdigest()


def escape(value: str, limit: int = _MAX_FIELD) -> str:
    """``value`` as one printable ASCII token: control and non-ASCII characters, spaces,
    quotes and backslashes become ``\\xNN``-style escapes, so no input can forge a line."""
    out = [ch if " " < ch < "\x7f" and ch not in "\\\"'=" else _hex(ch) for ch in value[:limit]]
    if len(value) > limit:
        out.append("...")
    return "".join(out)


def _hex(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


class AccessLogger(AbstractAccessLogger):
    """One line per request: method, path without its query (escaped), status, size, time.

    No client address, no query string (Engine.IO sids and tokens travel there), no headers.
    """

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        self.logger.info(
            "method=%s path=%s status=%d size=%d time_ms=%.1f",
            escape(request.method, 16),
            escape(request.rel_url.raw_path),
            response.status,
            response.body_length,
            time * 1000,
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def access_log_kwargs() -> dict[str, Any]:
    """What aiohttp's runners take to log access the way Hearth does (``hearth`` and the tests)."""
    guard_library_loggers()
    return {"access_log_class": AccessLogger, "access_log": logging.getLogger("aiohttp.access")}
