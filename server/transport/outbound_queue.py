"""An Engine.IO socket's outbound queue: the part of ``asyncio.Queue`` it uses, at a fraction of the size."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any


class OutboundQueue:
    """Unbounded FIFO with ``asyncio.Queue``'s interface as far as an Engine.IO socket uses it.

    ``asyncio.Queue`` builds four deques (items, getters, putters, and its ``join`` event's
    waiters), about 3 KB, for every connection, though a socket's queue has one reader (its
    writer or a long-poll) and is empty nearly always. Here the items and the waiters are
    created when first needed, and the items' deque is let go when emptied. ``put`` never
    waits: the bounds are ``EngineSocket.enqueue``'s.
    """

    __slots__ = ("_items", "_getters", "_unfinished", "_joiners")

    def __init__(self) -> None:
        self._items: deque[Any] | None = None
        self._getters: list[asyncio.Future[None]] | None = None
        self._unfinished = 0
        self._joiners: list[asyncio.Future[None]] | None = None

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        self._unfinished += 1
        self._wake_reader()

    async def put(self, item: Any) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> Any:
        items = self._items
        if not items:
            raise asyncio.QueueEmpty
        item = items.popleft()
        if not items:
            self._items = None  # an empty deque is still ~600 bytes, kept by every idle socket
        return item

    async def get(self) -> Any:
        while not self._items:
            getter = asyncio.get_running_loop().create_future()
            if self._getters is None:
                self._getters = []
            self._getters.append(getter)
            try:
                await getter
            except BaseException:
                getter.cancel()
                if getter in self._getters:
                    self._getters.remove(getter)
                if self._items:  # woken, then cancelled: pass the wake-up on
                    self._wake_reader()
                raise
        return self.get_nowait()

    def _wake_reader(self) -> None:
        getters = self._getters
        while getters:
            getter = getters.pop(0)
            if not getter.done():
                getter.set_result(None)
                break

    def task_done(self) -> None:
        if self._unfinished <= 0:
            raise ValueError("task_done() called too many times")
        self._unfinished -= 1
        if self._unfinished == 0 and self._joiners:
            joiners, self._joiners = self._joiners, None
            for fut in joiners:
                if not fut.done():
                    fut.set_result(None)

    async def join(self) -> None:
        """Wait until every item put has been marked done (``task_done``)."""
        if self._unfinished:
            fut = asyncio.get_running_loop().create_future()
            if self._joiners is None:
                self._joiners = []
            self._joiners.append(fut)
            await fut

    def __repr__(self) -> str:
        return f"<OutboundQueue qsize={self.qsize()} unfinished={self._unfinished}>"
