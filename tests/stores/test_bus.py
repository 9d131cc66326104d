"""The control bus over a real Redis: requests return only when every live process confirmed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from typing import Any

import pytest

from rooms.errors import Unavailable
from server.bus import RedisBus
from server.pubsub_seal import ChannelSeal


class Process:
    def __init__(self, url: str, pid: str, alive: set[str], *, fail: bool = False) -> None:
        self.seen: list[dict[str, Any]] = []
        self.fail = fail

        async def is_alive(pids: Collection[str]) -> set[str]:
            return set(pids) & alive

        seal = ChannelSeal([b"k" * 32], "hearth:control")
        self.bus = RedisBus(url, process_id=pid, alive=is_alive, seal=seal, ack_timeout_s=0.5)

    async def handle(self, message: dict[str, Any]) -> None:
        if self.fail:
            raise RuntimeError("a handler that breaks")
        self.seen.append(message)


@pytest.fixture
async def trio(redis_server: str) -> AsyncIterator[tuple[Process, Process, Process, set[str]]]:
    alive = {"a", "b", "c"}
    procs = (Process(redis_server, "a", alive), Process(redis_server, "b", alive), Process(redis_server, "c", alive))
    for p in procs:
        await p.bus.start(p.handle)
    for p in procs:
        await asyncio.wait_for(p.bus._subscribed.wait(), 5)
    yield (*procs, alive)
    for p in procs:
        await p.bus.aclose()


async def test_a_request_returns_once_every_process_named_handled_it(
    trio: tuple[Process, Process, Process, set[str]],
) -> None:
    a, b, c, _ = trio
    await a.bus.request({"op": "kick", "room": "circle"}, to={"b", "c"})
    assert [m["op"] for m in b.seen] == ["kick"] and [m["op"] for m in c.seen] == ["kick"]


async def test_a_live_process_that_does_not_confirm_makes_the_request_unavailable(
    trio: tuple[Process, Process, Process, set[str]],
) -> None:
    a, b, c, _ = trio
    b.fail = True
    with pytest.raises(Unavailable):
        await a.bus.request({"op": "kick"}, to={"b", "c"})
    await c.bus.aclose()  # alive (a heartbeat) but not listening
    b.fail = False
    with pytest.raises(Unavailable):
        await a.bus.request({"op": "kick"}, to={"b", "c"})


async def test_a_dead_process_need_not_confirm(trio: tuple[Process, Process, Process, set[str]]) -> None:
    a, b, c, alive = trio
    await c.bus.aclose()
    alive.discard("c")  # its heartbeat is gone: its sockets went with it
    await a.bus.request({"op": "kick"}, to={"b", "c"})
    assert [m["op"] for m in b.seen] == ["kick"]


async def test_a_request_while_the_listener_is_down_is_unavailable(redis_server: str) -> None:
    a = Process(redis_server, "a", {"a"})
    await a.bus.start(a.handle)
    await a.bus.aclose()
    with pytest.raises(Unavailable):
        await a.bus.request({"op": "kick"}, to={"a"})
