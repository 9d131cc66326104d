"""Private help: crisis signals on sent messages, help requests and staff replies (rules 29 and 30)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from moderation.alerts import Alert, new_alert
from moderation.context import Moderation
from moderation.crisis import CrisisCatalog
from moderation.flag import Flag, server_flag
from rooms.errors import Forbidden, RateLimited
from rooms.models import Identity, Member, Message
from rooms.text import clean_text

log = logging.getLogger(__name__)
CRISIS_REASON = "crisis signal"
REQUEST_REASON = "help request"
MAX_SUPPORT_TEXT = 500


@dataclass(frozen=True, slots=True)
class SupportOutcome:
    """What the transport sends: resources to the member, the alert to staff, the flag (if any) to reviewers."""

    alert: Alert
    resources: list[dict[str, str]]
    flag: Flag | None


@dataclass(frozen=True, slots=True)
class Reply:
    room: str
    member_id: str  # the member addressed
    text: str
    by: Member
    ts: int


def optional_support_text(raw: str | None) -> str | None:
    """A help request's few words: absent, null or blank count as not given; else 1 to 500 code points."""
    if raw is None or not raw.strip():
        return None
    return clean_text(raw, field="text", max_len=MAX_SUPPORT_TEXT)


def is_crisis_signal(catalog: CrisisCatalog, msg: Message) -> bool:
    """A peer's message that matches a crisis phrase (staff messages are not checked)."""
    return not msg.author.role.is_staff and catalog.matches(msg.text)


async def crisis_signal(mod: Moderation, catalog: CrisisCatalog, msg: Message, *, staff_in_room: int) -> SupportOutcome:
    """For a message that is a crisis signal: resources, an alert, and a flag when no staff is in the room."""
    alert = new_alert(mod.clock, msg.room, "crisis", msg.author, message_id=msg.id)
    flag = None
    if staff_in_room == 0:
        flag = await server_flag(mod, msg.room, msg, CRISIS_REASON, reporter=None)
    log.info("room=%s event=crisis_signal flagged=%s", msg.room, flag is not None)
    return SupportOutcome(alert, catalog.resources_wire(), flag)


async def support_request(
    mod: Moderation, catalog: CrisisCatalog, member: Member, room_id: str, raw_text: str | None, *, staff_in_room: int
) -> SupportOutcome:
    """A member asks staff privately for help; with no staff in the room the admin queue gets a flag.

    Requests share the flag allowance's shape (a burst of 5, then one per 2 s, per member and room),
    so one person cannot flood staff or the queue; the allowance is given back when refused.
    """
    text = optional_support_text(raw_text)
    bucket = ("support:" + room_id, member.id)
    wait = mod.rooms.limiter.take(bucket)
    if wait:
        raise RateLimited(wait, "You have asked several times just now; staff have been told. Please wait a moment.")
    alert = new_alert(mod.clock, room_id, "request", member, text=text)
    flag = None
    if staff_in_room == 0:
        try:
            flag = await server_flag(mod, room_id, None, REQUEST_REASON, reporter=member)
        except BaseException:
            mod.rooms.limiter.refund(bucket)
            raise
    log.info("room=%s event=support_request flagged=%s", room_id, flag is not None)
    return SupportOutcome(alert, catalog.resources_wire(), flag)


async def support_reply(mod: Moderation, actor: Identity, room_id: str, target: str, raw_text: str) -> Reply:
    """Staff answer one member privately; the reply reaches that member's sockets only."""
    if not actor.is_staff:
        raise Forbidden("Only facilitators and admins can reply to a help request.")
    room = await mod.rooms.get_room(room_id)
    record = await mod.rooms.member_record(room.id, target)
    text = clean_text(raw_text, field="text", max_len=MAX_SUPPORT_TEXT)
    return Reply(room.id, record.member_id, text, mod.rooms.member_for(actor, room.id), mod.clock.now_ms())
