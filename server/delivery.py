"""message:new to this process's sockets: once per message, in each room's order.

Embedded (SQLite, one process): the send handler's message goes out at once. Redis: every
process, the sender's included, delivers from the rooms' feeds (``rooms/redis_feed.py``), so a
message acked ``ok`` reaches every process even if pub/sub was down when it was sent.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING

from rooms.models import Message, SealedMessage
from server import wire
from server.notify import Notifier

if TYPE_CHECKING:
    from server.services import Services

log = logging.getLogger(__name__)
NS = "/"
RECENT = 10_000  # embedded mode: ids already broadcast, so a resend is not broadcast again


class Delivery:
    def __init__(self, notify: Notifier, svc: Services) -> None:
        self.notify = notify
        self.svc = svc
        self.feed = svc.stores.feed
        self._recent: OrderedDict[str, None] = OrderedDict()

    async def start(self) -> None:
        if self.feed is not None:
            await self.feed.start(self._deliver, self._hosted)

    async def aclose(self) -> None:
        if self.feed is not None:
            await self.feed.aclose()

    async def follow(self, room_id: str) -> None:
        """A socket here is joining the room (already in its Socket.IO room, history not yet read).

        Over Redis the process reads the feeds of the rooms it hosts only: this starts
        following the room's feed if no socket here had joined it. One process has no feed.
        """
        if self.feed is not None:
            await self.feed.follow(room_id)

    async def sent(self, msg: Message) -> None:
        """The send handler stored ``msg`` (or found it stored under the same client id)."""
        if self.feed is not None:
            return  # every process, this one included, delivers it from the feed
        if msg.id in self._recent:
            return
        self._recent[msg.id] = None
        if len(self._recent) > RECENT:
            self._recent.popitem(last=False)
        await self.notify.message_new(msg.room, wire.message(msg))

    def _hosted(self, room_id: str) -> bool:
        return bool(self.notify.sio.manager.rooms.get(NS, {}).get(wire.channel(room_id)))

    async def _deliver(self, room_id: str, sealed: list[SealedMessage]) -> None:
        for s in sealed:
            msg = await self.svc.rooms.vault.open(s)
            if msg is None:  # its key was destroyed: it expired
                continue
            # Only to this process's sockets: every other process reads the same feed.
            await self.notify.message_new(room_id, wire.message(msg), here_only=True)
