"""Closing without losing an answer: the transport's part of a graceful shutdown (SIGTERM).

``Drain.run`` stops new sessions and connects, lets the events being handled finish, tells
every client (``notice_event``), and from then on answers each event that still arrives with
``closing_reply`` instead of running it, so that every event a client sent gets an answer.
Clients are expected to leave once told; those still there after ``grace_s`` are disconnected.

It must run before aiohttp's own shutdown: from its first step aiohttp discards whatever
arrives on open connections, websockets included, so events sent after SIGTERM would vanish
unanswered. ``drain_on_sigterm`` therefore takes SIGTERM first, drains, then hands over to
aiohttp's graceful exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from aiohttp import web

log = logging.getLogger("server.transport")


class Drain:
    def __init__(self, server: Any) -> None:
        self.server = server
        self.closing = False
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._done: asyncio.Event | None = None
        self.notice_event = "server:closing"
        self.notice: Any = None
        self.closing_reply: Any = None  # the ack for events that arrive while closing
        self.settle_s = 2.0
        self.grace_s = 4.0

    def started(self) -> None:
        self.in_flight += 1
        self._idle.clear()

    def finished(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self._idle.set()

    async def run(self) -> None:
        """Drain once; a second call waits for the first to finish."""
        if self._done is not None:
            await self._done.wait()
            return
        self._done = asyncio.Event()
        try:
            await self._run()
        finally:
            self._done.set()

    async def _run(self) -> None:
        server = self.server
        self.closing = True
        server.eio.closing = True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settle_s):
                await self._idle.wait()
        busy = self.in_flight
        sids = [sid for sid, _ in server.manager.get_participants("/", None)]
        for sid in sids:
            with contextlib.suppress(Exception):  # a socket that has just gone
                await server.emit(self.notice_event, self.notice, to=sid)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.grace_s):
                while any(not s.closed for s in server.eio.sockets.values()):
                    server.eio.session_closed.clear()
                    await server.eio.session_closed.wait()
        left = [s for s in server.eio.sockets.values() if not s.closed]
        log.info("event=drain busy_after_settle=%d notified=%d left_open=%d", busy, len(sids), len(left))
        for sock in left:
            with contextlib.suppress(Exception):
                await sock.close(wait=False)


DRAIN = web.AppKey("transport_drain", Drain)


async def drain_on_sigterm(app: web.Application) -> None:
    """An ``on_startup`` hook for the serving process: SIGTERM drains, then exits through aiohttp."""
    loop = asyncio.get_running_loop()
    drain = app[DRAIN]
    tasks: set[asyncio.Task[None]] = set()

    def graceful_exit() -> None:
        raise web.GracefulExit()

    async def drain_then_exit() -> None:
        try:
            await drain.run()
        finally:
            loop.call_soon(graceful_exit)

    def on_sigterm() -> None:
        loop.remove_signal_handler(signal.SIGTERM)
        loop.add_signal_handler(signal.SIGTERM, graceful_exit)  # a second SIGTERM: exit now
        task = loop.create_task(drain_then_exit())
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
