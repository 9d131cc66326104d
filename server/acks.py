"""Turning handler outcomes into acks, and the ``internal`` error body (acks and HTTP share it)."""

from __future__ import annotations

import functools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rooms.errors import HearthError
from server import logs, metrics

log = logging.getLogger(__name__)

Handler = Callable[[str, Any], Awaitable[dict[str, Any]]]
Acked = Callable[..., Awaitable[dict[str, Any]]]


_refusal_logged: set[str] = set()  # sids whose first refused event has been logged


def forget(sid: str) -> None:
    """A socket is gone: drop what was kept about its log lines."""
    _refusal_logged.discard(sid)


def error_ack(exc: HearthError) -> dict[str, Any]:
    return {"ok": False, "error": exc.to_wire()}


def internal_error(where: str) -> dict[str, Any]:
    request_id = secrets.token_hex(6)
    log.exception("%s request_id=%s unhandled", where, request_id)
    return {"code": "internal", "message": "Internal error.", "request_id": request_id}


def acked(event: str) -> Callable[[Handler], Acked]:
    """Wrap a handler so every outcome is one ack dict: success, a domain error, or ``internal``."""

    def decorate(handler: Handler) -> Acked:
        @functools.wraps(handler)
        async def wrapper(sid: str, data: object = None, *_extra: object) -> dict[str, Any]:
            started = time.perf_counter()
            code = "ok"
            try:
                return {"ok": True, **await handler(sid, data)}
            except HearthError as exc:
                code = exc.code
                if sid not in _refusal_logged:  # one line per connection; /metrics counts every refusal
                    _refusal_logged.add(sid)
                    log.info("event=%s conn=%s code=%s", event, logs.conn_tag(sid), code)
                return error_ack(exc)
            except Exception:
                code = "internal"
                return {"ok": False, "error": internal_error(f"event={event} conn={logs.conn_tag(sid)}")}
            finally:
                metrics.observe_event(event, code, time.perf_counter() - started)

        return wrapper

    return decorate
