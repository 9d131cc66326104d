"""Traffic through a Redis fault on two processes: staff on each process send without pause while
members on both listen; afterwards, what was acked `ok` is counted against what each member got."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from tests.conftest import Client
from tests.multiproc.conftest import Cluster, Hearth


async def _send_until(stop: asyncio.Event, sender: Client, tag: str, acked: list[str], refused: list[float]) -> None:
    """Send until told to stop; keep the ids acked ok, and how long each `unavailable` took."""
    loop = asyncio.get_running_loop()
    n = 0
    while not stop.is_set():
        n += 1
        started = loop.time()
        ack = await sender.send("circle", f"{tag}-{n}", client_id=f"{tag}-{n}", timeout=10)  # never unanswered
        if ack["ok"]:
            acked.append(ack["message"]["id"])
        else:
            assert ack["error"]["code"] == "unavailable", ack  # never `internal`, never a false ok
            refused.append(loop.time() - started)
            await asyncio.sleep(0.05)


@dataclass
class Traffic:
    receivers: list[Client]
    senders: list[Client]  # fran on process a, sam on process b
    acked: dict[str, list[str]]  # by sender tag ("a", "b"): ids acked ok, in order
    refused: list[float]  # how long each `unavailable` answer took
    stop: asyncio.Event
    tasks: list[asyncio.Task[None]]

    @property
    def members(self) -> list[Client]:
        return self.receivers + self.senders

    async def first_delivery_after(self, before: int, back: float, *, timeout: float) -> float:
        """Seconds from ``back`` until the first message acked on a after ``before`` reached process b."""
        loop = asyncio.get_running_loop()
        while len(self.acked["a"]) <= before:
            await asyncio.sleep(0.005)
        first = self.acked["a"][before]
        await self.receivers[-1].wait_for("message:new", lambda m: m["id"] == first, timeout=timeout)
        return loop.time() - back

    async def finish(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks)

    async def assert_every_acked_message_arrived_once_in_order(self, *, within_s: float) -> None:
        everything = self.acked["a"] + self.acked["b"]
        last = {self.acked["a"][-1], self.acked["b"][-1]}
        for c in self.members:
            with contextlib.suppress(TimeoutError):
                for mid in last:  # everything acked has arrived within `within_s` of the last ack
                    await c.wait_for("message:new", lambda m, i=mid: m["id"] == i, timeout=within_s)
            got = [m["id"] for m in c.events["message:new"]]
            assert len(got) == len(set(got)), "a message was delivered twice"
            assert sorted(set(everything) - set(got)) == [], "acked messages never arrived"
            for tag in "ab":  # each sender's messages in the order they were acked
                mine: Any = [i for i in got if i in set(self.acked[tag])]
                assert mine == self.acked[tag]


async def start_traffic(cluster: Cluster, a: Hearth, b: Hearth, *, receivers_per_process: int) -> Traffic:
    """Room `circle` on a, members on both processes, and a sender on each, already sending."""
    await a.server().room("circle")
    receivers: list[Client] = []
    for node in (a, b):
        for _ in range(receivers_per_process):
            c = await cluster.client(node, (await node.server().session())[0])
            await c.join("circle")
            receivers.append(c)
    senders = [
        await cluster.client(a, await a.server().staff("fran")),
        await cluster.client(b, await b.server().staff("sam")),
    ]
    for s in senders:
        await s.join("circle")
    acked: dict[str, list[str]] = {"a": [], "b": []}
    refused: list[float] = []
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(_send_until(stop, s, tag, acked[tag], refused))
        for s, tag in zip(senders, "ab", strict=True)
    ]
    return Traffic(receivers, senders, acked, refused, stop, tasks)
