"""What every moderation command needs: the stores, the rooms service, the clock and the keyring."""

from __future__ import annotations

from dataclasses import dataclass

from crypto.sealing import Keyring
from moderation.admission_store import AdmissionStore
from moderation.returning import ReturningSignal
from moderation.store import ModStore
from rooms.clock import Clock
from rooms.errors import Invalid
from rooms.service import RoomService
from rooms.text import clean_text

MAX_DURATION_S = 365 * 86400


@dataclass(frozen=True)
class Moderation:
    store: ModStore
    rooms: RoomService
    clock: Clock
    keyring: Keyring
    flag_retention_ms: int = 30 * 86400 * 1000
    admissions: AdmissionStore | None = None  # rule 24; None only in tests that do not need it
    returning: ReturningSignal | None = None  # rule 26


def optional_reason(raw: object) -> str | None:
    if raw is None:
        return None
    return clean_text(raw, field="reason", max_len=500)


def optional_duration(raw: object, field: str) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_DURATION_S:
        raise Invalid(f"{field} must be a whole number of seconds from 1 to {MAX_DURATION_S}.", field=field)
    return raw
