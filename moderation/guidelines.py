"""Room guidelines: a peer accepts the current version once before joining (docs/PROTOCOL.md rule 23)."""

from __future__ import annotations

from moderation.safety_store import SafetyStore
from rooms.errors import HearthError
from rooms.models import Role


class GuidelinesRequired(HearthError):
    """The join needs the current guidelines accepted first; carries them so the page can show them."""

    code = "guidelines"
    status = 403

    def __init__(self, guidelines: str, version: int) -> None:
        super().__init__("Please read this room's guidelines and accept them to join.")
        self.guidelines = guidelines
        self.version = version

    @property
    def details(self) -> dict[str, object]:
        return {"guidelines": self.guidelines, "version": self.version}


async def check_guidelines(
    store: SafetyStore,
    room_id: str,
    member_id: str,
    role: Role,
    *,
    guidelines: str,
    version: int,
    accept: int | None,
) -> None:
    """Pass when there is nothing to accept, or the member accepts (now or before) the current version.

    ``accept`` is the version the person read (``accept_guidelines`` of the join); a stale one
    is answered like none, with the current text.
    """
    if role.is_staff or not guidelines:
        return
    if accept == version:
        await store.accept_guidelines(room_id, member_id, version)
        return
    if await store.accepted_guidelines(room_id, member_id) == version:
        return
    raise GuidelinesRequired(guidelines, version)
