"""Unattended rooms (docs/PROTOCOL.md rule 31): what a peer's send meets while no staff member is in."""

from __future__ import annotations

from dataclasses import replace

from rooms.errors import RoomLocked
from rooms.models import Identity, Room, Unattended

MIN_UNATTENDED_SLOW_S = 30


def room_for_send(room: Room, identity: Identity, *, attended: bool) -> Room:
    """The room as a send should see it: unchanged for staff or while attended; else per ``unattended``.

    ``slow`` gives peers a slow mode of max(30, slow_mode_s) seconds; ``read_only`` refuses their
    sends with ``room_locked``, as a locked room does.
    """
    if identity.is_staff or attended or room.unattended is Unattended.OPEN:
        return room
    if room.unattended is Unattended.READ_ONLY:
        raise RoomLocked()
    return replace(room, slow_mode_s=max(MIN_UNATTENDED_SLOW_S, room.slow_mode_s))
