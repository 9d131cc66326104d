"""The application factory: an aiohttp app with Socket.IO attached, and its lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import socketio
from aiohttp import web

from moderation import housekeeping
from moderation.staff import ensure_admin
from rooms.clock import Clock, SystemClock
from rooms.errors import HearthError
from server import events, lifecycle, metrics
from server.broadcast import DirectManager, DirectRedisManager, install_transport_tweaks
from server.bus import Bus, LocalBus, RedisBus
from server.config import Config
from server.connections import Connections
from server.control import Control
from server.events import HearthSocketServer
from server.http_api import REALTIME, SERVICES, add_routes, cors_middleware, errors_middleware, security_headers
from server.notify import Notifier
from server.realtime import Realtime
from server.services import open_services

log = logging.getLogger(__name__)
CONFIG = web.AppKey("config", Config)
ACCESS_LOG_FORMAT = '%t "%r" %s %b %Tf'  # no %a: client addresses are not logged


class _OrjsonForSocketIO:
    """python-socketio's ``json`` hook: orjson, returning str as the packet encoder expects."""

    @staticmethod
    def dumps(obj: object, **_: object) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(data: str | bytes, **_: object) -> object:
        return orjson.loads(data)


def _socket_server(config: Config) -> socketio.AsyncServer:
    install_transport_tweaks()
    manager: socketio.AsyncManager = DirectManager()
    if config.redis_url is not None:
        # JSON over Redis pub/sub; connects lazily, so create_app does no I/O.
        manager = DirectRedisManager(
            config.redis_url,
            channel="hearth-socketio",
            redis_options={"socket_connect_timeout": 2, "socket_timeout": 2},
        )
    return HearthSocketServer(
        async_mode="aiohttp",
        client_manager=manager,
        cors_allowed_origins=list(config.allowed_origins) or None,
        logger=False,
        engineio_logger=False,
        json=_OrjsonForSocketIO,
        # Events of one socket run in order, so a member's messages keep their order.
        async_handlers=False,
        ping_interval=20,
        ping_timeout=20,
        # Large enough that an oversized payload gets an `invalid` ack rather than a dropped connection.
        max_http_buffer_size=1024 * 1024,
    )


def create_app(config: Config, *, clock: Clock | None = None) -> web.Application:
    clock = clock or SystemClock()
    app = web.Application(
        middlewares=[errors_middleware, cors_middleware(config.allowed_origins), security_headers],
        client_max_size=64 * 1024,
    )
    app[CONFIG] = config
    sio = _socket_server(config)
    sio.attach(app)
    add_routes(app)

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        svc = await open_services(config, clock)
        app[SERVICES] = svc
        bus: Bus = LocalBus() if config.redis_url is None else RedisBus(config.redis_url)
        conns = Connections(sio)
        rt = Realtime(svc, conns, Notifier(sio), Control(bus, svc.rooms, conns))
        lifecycle.register(sio, rt)
        events.register(sio, rt)
        await bus.start(rt.control.on_message)
        app[REALTIME] = rt
        if config.admin_password is not None:
            await ensure_admin(svc.mod, config.admin_password.value)
        log.info("event=started store=%s", config.store_name)
        yield
        await bus.aclose()
        await svc.aclose()

    async def background_ctx(app: web.Application) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(_every(stop, config.purge_interval_s, "purge", lambda: purge_once(app))),
            asyncio.create_task(
                _every(stop, config.presence_reap_s, "reap", lambda: lifecycle.reap_presence(app[REALTIME]))
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
