"""Which identity each local socket holds and which rooms it has joined."""

from __future__ import annotations

from dataclasses import dataclass, field

import socketio

from rooms.errors import NotMember, Unauthorized
from rooms.models import Identity, Member, Role
from server import wire

NS = "/"


@dataclass
class Conn:
    """One socket's identity and the member it is in each room it joined."""

    identity: Identity
    rooms: dict[str, Member] = field(default_factory=dict)
    address: str | None = None  # the client address, opaque: only ever hashed (docs/PROTOCOL.md rule 26)
    token: str | None = None  # staff sockets only: checked again now and then (``lifecycle.recheck_staff``)


class Connections:
    """The registry of local sockets.

    Membership truth is the Socket.IO room (``wire.channel``): a removal on another process
    takes the socket out of it through the message queue. ``Conn.rooms`` only remembers
    which member the socket is in each room, and is reconciled with the Socket.IO room on
    every look-up (``member_in``).
    """

    def __init__(self, sio: socketio.AsyncServer) -> None:
        self.sio = sio
        self._conns: dict[str, Conn] = {}
        self.closed_since_collect = 0  # sockets dropped since the last full collection (lifecycle.collect_closed)

    def __len__(self) -> int:
        return len(self._conns)

    def sids(self) -> list[str]:
        return list(self._conns)

    async def add(self, sid: str, identity: Identity, address: str | None = None, token: str | None = None) -> None:
        self._conns[sid] = Conn(identity, address=address, token=token if identity.is_staff else None)
        if identity.role is Role.ADMIN:
            await self.sio.enter_room(sid, wire.ADMINS)

    def drop(self, sid: str) -> Conn | None:
        conn = self._conns.pop(sid, None)
        if conn is not None:
            self.closed_since_collect += 1
        return conn

    def identity(self, sid: str) -> Identity:
        conn = self._conns.get(sid)
        if conn is None:  # only a socket whose connect was refused or has just closed
            raise Unauthorized("This connection is not signed in.")
        return conn.identity

    def address(self, sid: str) -> str | None:
        conn = self._conns.get(sid)
        return None if conn is None else conn.address

    def addresses_of(self, room_id: str, member_id: str) -> list[str]:
        """Client addresses of this process's sockets that joined a room as that member (rule 26)."""
        found = set()
        for conn in self._conns.values():
            joined = conn.rooms.get(room_id)
            if joined is not None and joined.id == member_id and conn.address is not None:
                found.add(conn.address)
        return sorted(found)

    async def wait_for_admission(self, sid: str, room_id: str, member_id: str) -> None:
        await self.sio.enter_room(sid, wire.waiting_channel(room_id, member_id))

    def staff_tokens(self) -> list[tuple[str, str]]:
        """(sid, token) of this process's staff sockets."""
        return [(sid, conn.token) for sid, conn in self._conns.items() if conn.token is not None]

    def staff_sids(self, staff_id: str) -> list[str]:
        return [sid for sid, conn in self._conns.items() if conn.identity.staff_id == staff_id]

    def member_sids(self, room_id: str, member_id: str) -> list[str]:
        """This process's sockets of a member in a room."""
        return [
            sid for sid, conn in self._conns.items() if (m := conn.rooms.get(room_id)) is not None and m.id == member_id
        ]

    def in_room(self, sid: str, room_id: str) -> bool:
        conn = self._conns.get(sid)
        room = self.sio.manager.rooms.get(NS, {}).get(wire.channel(room_id))
        return conn is not None and room_id in conn.rooms and room is not None and sid in room

    def member_in(self, sid: str, room_id: str) -> tuple[Identity, Member]:
        """The socket's identity and member in a room it has joined, else NotMember."""
        identity = self.identity(sid)
        conn = self._conns[sid]
        if not self.in_room(sid, room_id):
            conn.rooms.pop(room_id, None)
            raise NotMember(room_id)
        return identity, conn.rooms[room_id]

    async def listen(self, sid: str, room_id: str) -> None:
        """Deliver the room's messages to the socket while its join is still being decided (``enter`` completes it)."""
        await self.sio.enter_room(sid, wire.channel(room_id))

    async def enter(self, sid: str, room_id: str, member: Member) -> None:
        conn = self._conns[sid]
        conn.rooms[room_id] = member
        await self.sio.enter_room(sid, wire.channel(room_id))
        if conn.identity.is_staff:
            await self.sio.enter_room(sid, wire.staff_channel(room_id))

    async def leave(self, sid: str, room_id: str) -> None:
        """Take a socket (local or, through the queue, on another process) out of a room."""
        conn = self._conns.get(sid)
        if conn is not None:
            conn.rooms.pop(room_id, None)
        await self.sio.leave_room(sid, wire.channel(room_id))
        await self.sio.leave_room(sid, wire.staff_channel(room_id))

    async def close_room(self, room_id: str) -> None:
        await self.sio.close_room(wire.channel(room_id))
        await self.sio.close_room(wire.staff_channel(room_id))

    async def disconnect(self, sid: str) -> None:
        await self.sio.disconnect(sid, ignore_queue=True)
