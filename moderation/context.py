"""What every moderation command needs: the stores, the rooms service, the clock and the keyring."""

from __future__ import annotations

from dataclasses import dataclass

from crypto.sealing import Keyring
from moderation.admission_store import AdmissionStore
from moderation.returning import ReturningSignal
from moderation.roles import require_can_act_on
from moderation.store import ModStore
from rooms.clock import Clock
from rooms.models import Identity, MemberRecord, Room
from rooms.service import RoomService
from rooms.text import clean_text

MAX_DURATION_S = 365 * 86400  # the longest mute or ban (checked where payloads are parsed)
MAX_REASON = 500


@dataclass(frozen=True)
class Moderation:
    store: ModStore
    rooms: RoomService
    clock: Clock
    keyring: Keyring
    flag_retention_ms: int = 30 * 86400 * 1000
    admissions: AdmissionStore | None = None  # rule 24; None only in tests that do not need it
    returning: ReturningSignal | None = None  # rule 26


def optional_reason(raw: str | None, field: str = "reason") -> str | None:
    """A moderator's reason or note: normalised, at most 500 code points; empty means none."""
    if raw is None or raw == "":
        return None
    return clean_text(raw, field=field, max_len=MAX_REASON)


async def target_member(mod: Moderation, actor: Identity, room_id: str, member: str) -> tuple[Room, MemberRecord]:
    """The room and the member a command acts on, once ``actor`` may act on them (checked after the
    command's own permission and input checks, so their errors come first)."""
    room = await mod.rooms.get_room(room_id)
    target = await mod.rooms.member_record(room.id, member)
    require_can_act_on(actor.role, target.role)
    return room, target
