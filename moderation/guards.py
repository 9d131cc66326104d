"""Moderation's answers to the rooms domain: may this member join, is this member muted, are they returning."""

from __future__ import annotations

from moderation.admission_store import AdmissionStore
from moderation.models import Mute
from moderation.returning import ReturningSignal
from moderation.store import ModStore
from rooms.clock import Clock
from rooms.errors import Banned, Muted, Waiting
from rooms.models import Admission, Identity, Member, MuteState, Room

RETURNING = "returning"
NEW_IDENTITY = "new_identity"


class ModerationGuards:
    def __init__(
        self,
        store: ModStore,
        clock: Clock,
        *,
        admissions: AdmissionStore | None = None,
        returning: ReturningSignal | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.admissions = admissions
        self.returning = returning

    async def check_join(
        self, room: Room, member_id: str, *, identity: Identity | None = None, address: str | None = None
    ) -> None:
        """Bans first, then admission (rule 24). Staff are not asked (the caller skips them)."""
        ban = await self.store.get_ban(room.id, member_id, now_ms=self.clock.now_ms())
        if ban is not None:
            if self.returning is not None and address is not None:
                # Connected while the sanction lasts: that address is remembered too (rule 26).
                await self.returning.remember(room.id, member_id, [address], ban.until)
            raise Banned(ban.until)
        if room.admission is Admission.APPROVAL and self.admissions is not None:
            if not await self.admissions.is_admitted(room.id, member_id):
                raise Waiting()

    async def after_join(self, room: Room, member: Member, *, address: str | None) -> str | None:
        """Rule 26 on a peer's join: returns the sanctioned member's id when this one is returning.

        A sanctioned member's own address is remembered while their mute lasts; a different identity
        from a marked address is muted (reason ``returning``) until the sanction's end, silently.
        """
        if self.returning is None or address is None:
            return None
        now = self.clock.now_ms()
        mute = await self.store.get_mute(room.id, member.id, now_ms=now)
        if mute is not None and mute.reason != RETURNING:
            await self.returning.remember(room.id, member.id, [address], mute.until)
        mark = await self.returning.match(room.id, member.id, address)
        if mark is None or (mute is not None and mute.reason == RETURNING):
            return None
        if mute is not None and (mute.until is None or (mark.until is not None and mute.until >= mark.until)):
            return None  # already muted for at least as long
        await self.store.set_mute(Mute(room.id, member.id, mark.until, RETURNING))
        return mark.member_id

    async def current_mute(self, room_id: str, member_id: str) -> MuteState | None:
        mute = await self.store.get_mute(room_id, member_id, now_ms=self.clock.now_ms())
        return None if mute is None else MuteState(mute.until, mute.reason)

    async def check_send(self, room: Room, member_id: str, *, identity: Identity | None = None) -> None:
        now = self.clock.now_ms()
        mute = await self.store.get_mute(room.id, member_id, now_ms=now)
        if mute is not None:
            raise Muted(mute.until, mute.reason)
        if identity is not None and not identity.is_staff and room.min_identity_age_s > 0:
            ready_at = identity.issued_at_ms + room.min_identity_age_s * 1000
            if ready_at > now:  # rule 25
                raise Muted(ready_at, NEW_IDENTITY)
