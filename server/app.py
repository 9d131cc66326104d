"""The application factory: an aiohttp app with Socket.IO attached, and its lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import socketio
from aiohttp import web

from moderation import housekeeping
from moderation.staff import ensure_admin
from rooms.clock import Clock, SystemClock
from rooms.errors import HearthError, Unavailable
from server import events, lifecycle, metrics, wire
from server.acks import error_ack
from server.config import Config
from server.connections import Connections
from server.control import Control
from server.delivery import Delivery
from server.events import HearthSocketServer
from server.http_api import REALTIME, SERVICES, add_routes, cors_middleware, errors_middleware, security_headers
from server.ip_limits import client_address
from server.notify import Notifier
from server.realtime import Realtime
from server.services import open_services
from server.transport import TransportSettings, make_manager
from server.transport.drain import DRAIN

log = logging.getLogger(__name__)
CONFIG = web.AppKey("config", Config)


class _OrjsonForSocketIO:
    """python-socketio's ``json`` hook: orjson, returning str as the packet encoder expects."""

    @staticmethod
    def dumps(obj: object, **_: object) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(data: str | bytes, **_: object) -> object:
        return orjson.loads(data)


def _socket_server(config: Config) -> socketio.AsyncServer:
    settings = TransportSettings(
        ping_interval_s=20,
        ping_timeout_s=20,
        # Large enough that an oversized payload gets an `invalid` ack rather than a dropped connection.
        max_payload=1024 * 1024,
        address_of=_address_of(config) if config.ip_limits else None,
    )
    sio = HearthSocketServer(
        transport_settings=settings,
        client_manager=make_manager(config.redis_url, config.secret.keys if config.secret else ()),
        cors_allowed_origins=list(config.allowed_origins) or None,
        logger=False,
        engineio_logger=False,
        json=_OrjsonForSocketIO,
        # Events of one socket run in order, so a member's messages keep their order.
        async_handlers=False,
    )
    # SIGTERM (server/transport/drain.py): what clients are told, and the answer to late events.
    sio.drain.notice = wire.server_closing(1000)
    sio.drain.closing_reply = error_ack(Unavailable("The server is restarting; reconnect shortly."))
    return sio


def _address_of(config: Config) -> Callable[[dict[str, Any]], str]:
    def address_of(environ: dict[str, Any]) -> str:
        request: web.Request = environ["aiohttp.request"]
        return client_address(request.remote, request.headers.get("X-Forwarded-For"), config.trusted_proxies)

    return address_of


def create_app(config: Config, *, clock: Clock | None = None) -> web.Application:
    clock = clock or SystemClock()
    app = web.Application(
        # security_headers is outermost so error responses carry the headers too.
        middlewares=[security_headers, errors_middleware, cors_middleware(config.allowed_origins)],
        client_max_size=64 * 1024,
        # Request bodies are not inflated: /api refuses any Content-Encoding (server/http_api.py).
        handler_args={"auto_decompress": False},
    )
    app[CONFIG] = config
    sio = _socket_server(config)
    app[DRAIN] = sio.drain
    sio.attach(app)
    add_routes(app)

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        svc = await open_services(config, clock)
        app[SERVICES] = svc
        bus = svc.stores.bus
        conns = Connections(sio)
        notify = Notifier(sio)
        control = Control(bus, svc.rooms, conns, notify, svc.presence, svc.returning)
        rt = Realtime(svc, conns, notify, control, Delivery(notify, svc))
        lifecycle.register(sio, rt)
        events.register(sio, rt)
        await bus.start(rt.control.on_message)
        await rt.delivery.start()
        app[REALTIME] = rt
        if config.admin_password is not None:
            await ensure_admin(svc.mod, config.admin_password.value)
        log.info("event=started store=%s", config.store_name)
        yield
        await rt.delivery.aclose()
        await svc.aclose()  # the bus too
        await sio.manager.aclose()  # the Socket.IO pub/sub listener and its connections

    async def background_ctx(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(_every(stop, config.purge_interval_s, "purge", lambda: purge_once(app))),
            asyncio.create_task(
                _every(stop, config.presence_reap_s, "reap", lambda: lifecycle.reap_presence(app[REALTIME]))
            ),
            asyncio.create_task(
                _every(stop, config.presence_reap_s, "staff", lambda: lifecycle.recheck_staff(app[REALTIME]))
            ),
            asyncio.create_task(
                _every(stop, lifecycle.COLLECT_CLOSED_S, "gc", lambda: lifecycle.collect_closed(app[REALTIME]))
            ),
        ]
        yield
        stop.set()
        _, pending = await asyncio.wait(tasks, timeout=5)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def on_shutdown(app: web.Application) -> None:
        await sio.drain.run()  # already done on SIGTERM by the serving process (server/transport/drain.py)
        if REALTIME in app:
            await lifecycle.shutdown(app[REALTIME])

    app.cleanup_ctx.append(services_ctx)
    app.cleanup_ctx.append(background_ctx)
    app.on_shutdown.append(on_shutdown)
    return app


async def purge_once(app: web.Application) -> None:
    svc = app[SERVICES]
    purged = await housekeeping.purge(svc.mod)
    svc.login_limiter.prune()
    svc.ip_limiter.prune()
    metrics.ROOMS.set(purged.rooms)
    metrics.PURGED.inc(purged.messages)
    metrics.KEYS_DESTROYED.inc(purged.keys)
    if purged.anything:
        log.info(
            "event=purge messages=%d keys=%d flag_snapshots=%d", purged.messages, purged.keys, purged.flag_snapshots
        )


async def _every(stop: asyncio.Event, interval_s: float, name: str, job: Callable[[], Awaitable[None]]) -> None:
    """Run a housekeeping job until ``stop`` is set; a failure is logged and retried next time.

    Stopping is an event rather than a cancellation: a cancellation arriving inside a
    Redis call can surface as a connection error, which this loop would then swallow.
    """
    while not stop.is_set():
        try:
            await job()
        except HearthError as exc:
            log.warning("event=%s code=%s", name, exc.code)
        except Exception:
            log.exception("event=%s unhandled", name)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
