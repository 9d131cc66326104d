"""Socket lifecycle: connect (identify), disconnect (leave rooms), presence reaping and shutdown."""

from __future__ import annotations

import gc
import logging
from typing import Any

import socketio
from aiohttp import web

from rooms.errors import HearthError, RateLimited, Unauthorized
from rooms.models import LeaveReason
from server import acks, logs, metrics, safety
from server.ip_limits import client_address
from server.realtime import Realtime

log = logging.getLogger(__name__)


class Refused(socketio.exceptions.ConnectionRefusedError):  # type: ignore[misc]
    """A refused connect whose payload both socket.io-client and python-socketio read (precise rule 1)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error_args = {"message": message, "data": {"code": code, "message": message}}


def register(sio: socketio.AsyncServer, rt: Realtime) -> None:
    svc = rt.svc

    async def connect(sid: str, environ: dict[str, Any], auth: object = None) -> None:
        request: web.Request | None = environ.get("aiohttp.request")
        address = client_address(
            request.remote if request else None,
            request.headers.get("X-Forwarded-For") if request else None,
            svc.config.trusted_proxies,
        )
        try:
            svc.ip_limiter.hit("connect", address)
            token = auth.get("token") if isinstance(auth, dict) else None
            identity = await svc.auth.identify(token)
        except RateLimited as exc:
            raise Refused("rate_limited", exc.message) from None
        except HearthError as exc:
            raise Refused(exc.code, exc.message) from None
        await rt.conns.add(sid, identity, address, token=token if isinstance(token, str) else None)
        metrics.SOCKETS.inc()
        log.info("event=connect conn=%s role=%s", logs.conn_tag(sid), identity.role.wire)

    async def disconnect(sid: str, reason: object = None) -> None:
        acks.forget(sid)
        conn = rt.conns.drop(sid)
        if conn is None:
            return
        metrics.SOCKETS.dec()
        for room_id, member in conn.rooms.items():
            try:
                if await svc.rooms.leave(room_id, member.id, sid):
                    await rt.notify.member_left(room_id, member.id, LeaveReason.DISCONNECTED, skip_sid=sid)
                    await safety.member_gone(rt, room_id, member)
            except HearthError:
                log.warning(
                    "event=disconnect conn=%s room=%s code=presence_cleanup_failed", logs.conn_tag(sid), room_id
                )
        log.info("event=disconnect conn=%s", logs.conn_tag(sid))

    sio.on("connect", connect)
    sio.on("disconnect", disconnect)


async def recheck_staff(rt: Realtime) -> None:
    """Close staff sockets whose token no longer holds: the account was removed or its password
    changed somewhere this process was not told about (``hearth staff passwd``, another process)."""
    for sid, token in rt.conns.staff_tokens():
        try:
            await rt.svc.auth.identify(token)
        except Unauthorized:
            log.info("event=staff_token_revoked conn=%s", logs.conn_tag(sid))
            await rt.conns.disconnect(sid)


# How often closed connections' leftovers are considered for collection.
COLLECT_CLOSED_S = 10.0
# Collect once this share of the sockets still open has closed since the last collection.
COLLECT_CLOSED_SHARE = 0.25


async def collect_closed(rt: Realtime) -> None:
    """Free the reference cycles closed connections leave (aiohttp's protocol and transport, the
    Engine.IO socket and its queue) with a full collection, once enough sockets have closed.

    The collector's own schedule, tuned for throughput (``server/cli.py``), almost never reaches
    the oldest generation, where a connection's objects are by the time it closes: under churn the
    cycles piled up and RSS grew by a fifth in a 10-minute soak (docs/OPERATIONS.md). A full
    collection walks every live connection's objects (about 1 s at 10,000 sockets on the
    development machine), so it waits until the sockets closed since the last one reach a quarter
    of those still open: what is waiting to be freed stays under a quarter of what is live, and
    the pause per closed socket stays the same at any size. A server whose sockets stay connected
    never pays for it.
    """
    closed = rt.conns.closed_since_collect
    if closed and closed >= len(rt.conns) * COLLECT_CLOSED_SHARE:
        rt.conns.closed_since_collect = 0
        with metrics.CLOSED_COLLECTION.time():
            gc.collect()


async def reap_presence(rt: Realtime) -> None:
    """Report members whose only sockets were on a process that died without saying goodbye."""
    rooms = set()
    for room_id, member_id in await rt.svc.presence.reap():
        await rt.notify.member_left(room_id, member_id, LeaveReason.DISCONNECTED)
        rooms.add(room_id)
    for room_id in rooms:  # the dead process may have held the last staff member (rule 31)
        await safety.attended_changed(rt, room_id, was_attended=True)


async def shutdown(rt: Realtime) -> None:
    """SIGTERM: tell every local socket why it is being closed, then close it."""
    for sid in rt.conns.sids():
        try:
            await rt.notify.server_closing(sid)
            await rt.conns.disconnect(sid)
        except Exception:  # a socket that is already gone
            log.debug("event=shutdown_disconnect_failed conn=%s", logs.conn_tag(sid))
