"""Refusing bad input on a connection: counted, and at most one short log line per connection.

The reason is always one of our own constants, so the line carries nothing a client wrote
(no sid, address, query string or payload) and cannot forge log lines.
"""

from __future__ import annotations

import logging
from typing import Any

from server.transport.counters import DROPPED, REFUSED

log = logging.getLogger("server.transport")


def note_refused(conn: Any, reason: str) -> None:
    """Count a refusal of what ``conn`` sent; log it only if ``conn`` has not been logged yet."""
    REFUSED.labels(reason).inc()
    _log_once(conn, "event=transport_refused reason=%s", reason)


def note_dropped(conn: Any, reason: str) -> None:
    """Count a connection the server dropped for its own reasons (a bound, a timeout)."""
    DROPPED.labels(reason).inc()
    _log_once(conn, "event=transport_dropped reason=%s", reason)


def _log_once(conn: Any, fmt: str, reason: str) -> None:
    if getattr(conn, "hearth_logged", False):
        return
    try:
        conn.hearth_logged = True
    except AttributeError:  # an object that takes no attributes: log, at worst, once per refusal
        pass
    log.info(fmt, reason)
