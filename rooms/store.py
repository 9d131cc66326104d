"""The rooms store interface: rooms, sealed messages, data keys and member records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rooms.models import MemberRecord, Room, RoomKey, SealedMessage


class RoomStore(Protocol):
    async def ping(self) -> None:
        """Write a probe; raise Unavailable when the store cannot be reached or written (full, OOM)."""

    # rooms
    async def create_room(self, room: Room) -> None:
        """Raise Conflict when the id is taken."""

    async def get_room(self, room_id: str) -> Room | None: ...
    async def list_rooms(self) -> list[Room]: ...
    async def update_room(self, room: Room) -> None: ...

    async def delete_room(self, room_id: str) -> bool:
        """Destroy the room, its messages and their reactions, its keys and its member records."""

    # messages
    async def add_message(self, msg: SealedMessage, *, dedupe: str | None = None) -> str | None:
        """Store a message; None when stored. With ``dedupe`` (the author's client id, hashed): when a
        live message was already stored under it, store nothing and return that message's id."""

    async def find_sent(self, room_id: str, dedupe: str, *, now_ms: int) -> str | None:
        """The id of the live message stored under ``dedupe``, if any."""

    async def history(self, room_id: str, *, now_ms: int, limit: int) -> list[SealedMessage]:
        """Live messages, oldest first, the newest ``limit`` of them."""

    async def get_message(self, room_id: str, message_id: str, *, now_ms: int) -> SealedMessage | None: ...

    async def messages_before(
        self, room_id: str, message: SealedMessage, *, now_ms: int, limit: int
    ) -> list[SealedMessage]:
        """Up to ``limit`` live messages just before ``message``, oldest first."""

    async def delete_message(self, room_id: str, message_id: str) -> bool:
        """Delete the message and its reactions."""

    async def set_reaction(
        self, room_id: str, message_id: str, kind: str, tag: str, *, on: bool, expires_at: int
    ) -> None:
        """Give (on) or take back one reaction of one member (``tag``); it expires with the message."""

    async def reactions(self, room_id: str, message_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """message id -> [(kind, tag)] for those of the messages that have reactions."""

    # data keys
    async def get_key(self, room_id: str, epoch: int) -> RoomKey | None: ...

    async def put_key(self, key: RoomKey) -> RoomKey:
        """Store ``key`` unless one exists for its room and epoch; return the one that is stored."""

    async def extend_key(self, room_id: str, epoch: int, destroy_after: int) -> bool:
        """Raise a key's ``destroy_after`` to at least the given time; False when the key is gone."""

    async def all_keys(self) -> list[RoomKey]: ...
    async def replace_wrapped(self, room_id: str, epoch: int, wrapped: bytes) -> None: ...

    async def purge(self, *, now_ms: int) -> tuple[int, int]:
        """Delete expired messages and destroy keys past their time; return both counts."""

    # members who ever joined
    async def record_member(self, record: MemberRecord) -> None: ...
    async def get_member(self, room_id: str, member_id: str) -> MemberRecord | None: ...

    # slow mode
    async def take_slow_mode(self, room_id: str, member_id: str, *, now_ms: int, window_ms: int) -> int:
        """Claim a send slot: 0 when allowed (and recorded), else milliseconds to wait."""

    # instance secrets, wrapped
    async def get_meta(self, name: str) -> bytes | None: ...
    async def put_meta_if_absent(self, name: str, value: bytes) -> bytes: ...
    async def set_meta(self, name: str, value: bytes) -> None: ...
