"""The safety store interface: which guidelines version each member accepted, per room."""

from __future__ import annotations

from typing import Protocol


class SafetyStore(Protocol):
    async def accept_guidelines(self, room_id: str, member_id: str, version: int) -> None:
        """Remember that this member accepted this version."""

    async def accepted_guidelines(self, room_id: str, member_id: str) -> int:
        """The version this member last accepted in this room; 0 when none."""

    async def delete_room(self, room_id: str) -> None:
        """Forget everything kept for a destroyed room."""
