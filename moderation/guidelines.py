"""Room guidelines: a peer accepts the current version once before joining (docs/PROTOCOL.md rule 23)."""

from __future__ import annotations

from moderation.safety_store import SafetyStore
from rooms.errors import HearthError, Invalid
from rooms.models import Role


class GuidelinesRequired(HearthError):
    """The join needs the current guidelines accepted first; carries them so the page can show them."""

    code = "guidelines"
    status = 403

    def __init__(self, guidelines: str, version: int) -> None:
        super().__init__(
            "Please read this room's guidelines and accept them to join.", guidelines=guidelines, version=version
        )


def parse_acceptance(raw: object) -> int | None:
    """``accept_guidelines`` of a join: absent/null, or the version number the person read."""
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise Invalid("accept_guidelines must be the guidelines version number.", field="accept_guidelines")
    return raw


async def check_guidelines(
    store: SafetyStore,
    room_id: str,
    member_id: str,
    role: Role,
    *,
    guidelines: str,
    version: int,
    accept: object,
) -> None:
    """Pass when there is nothing to accept, or the member accepts (now or before) the current version."""
    accepted = parse_acceptance(accept)
    if role.is_staff or not guidelines:
        return
    if accepted == version:
        await store.accept_guidelines(room_id, member_id, version)
        return
    if await store.accepted_guidelines(room_id, member_id) == version:
        return
    raise GuidelinesRequired(guidelines, version)
