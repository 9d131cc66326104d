"""message:flag: any member asks staff to look at a message; its snapshot is sealed for review.

The snapshot also holds the reporter's pseudonym as the room showed it (sealed with the message,
destroyed with it after retention), so reviewers see who reported or asked for help by name
while no peer pseudonym is ever stored readable at rest.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

import orjson

from crypto.sealing import SealError, open_sealed, seal
from moderation.context import MAX_REASON, Moderation
from moderation.models import FlagStatus, Resolution, StoredFlag
from rooms.errors import RateLimited
from rooms.models import Identity, Member, Message, Role
from rooms.text import clean_text

log = logging.getLogger(__name__)
CONTEXT_MESSAGES = 3


@dataclass(frozen=True, slots=True)
class Flag:
    """A flag as reviewers see it, its snapshot opened (None once destroyed after retention)."""

    id: str
    room: str
    message: Message | None
    context: list[Message]
    reason: str
    reporter: str | None  # None: raised by the server
    created_at: int
    status: FlagStatus
    resolution: Resolution | None
    author_id: str | None  # None: a help request, about no message
    # The reporter's pseudonym as the room showed it; None for a crisis signal, once the snapshot is
    # destroyed, and for flags stored before it was kept.
    reporter_pseudonym: str | None = None


@dataclass(frozen=True, slots=True)
class FlagResult:
    flag: Flag
    created: bool


def _flag_aad(flag_id: str) -> bytes:
    return f"hearth-flag/v1|{flag_id}".encode()


def key_context(flag_id: str) -> str:
    return f"flag:{flag_id}"


def _msg_dict(m: Message) -> dict[str, Any]:
    return {
        "id": m.id,
        "room": m.room,
        "author": [m.author.id, m.author.pseudonym, int(m.author.role)],
        "text": m.text,
        "ts": m.ts,
        "expires_at": m.expires_at,
        "client_id": m.client_id,
    }


def _msg_from(d: dict[str, Any]) -> Message:
    author_id, pseudonym, role = d["author"]
    return Message(
        d["id"],
        d["room"],
        Member(author_id, pseudonym, Role(role)),
        d["text"],
        d["ts"],
        d["expires_at"],
        d.get("client_id"),
    )


def open_flag(mod: Moderation, stored: StoredFlag) -> Flag:
    message: Message | None = None
    context: list[Message] = []
    reporter_pseudonym: str | None = None
    if stored.snapshot is not None and stored.snapshot_key is not None:
        try:
            key = mod.keyring.unwrap(stored.snapshot_key, context=key_context(stored.id))
            data = orjson.loads(open_sealed(key, stored.snapshot, _flag_aad(stored.id)))
            message = None if data["message"] is None else _msg_from(data["message"])
            context = [_msg_from(d) for d in data["context"]]
            name = data.get("reporter")
            reporter_pseudonym = name if isinstance(name, str) else None
        except (SealError, ValueError, KeyError, TypeError):
            log.warning("flag=%s event=unseal_failed", stored.id)
    return Flag(
        stored.id,
        stored.room,
        message,
        context,
        stored.reason,
        stored.reporter,
        stored.created_at,
        stored.status,
        stored.resolution,
        stored.author_id,
        reporter_pseudonym,
    )


async def _store_flag(
    mod: Moderation, room_id: str, msg: Message | None, reason: str, reporter: Member | None
) -> tuple[StoredFlag, str]:
    flag_id = "f_" + secrets.token_hex(8)
    snapshot = wrapped = None
    if msg is not None or reporter is not None:
        context = [] if msg is None else await mod.rooms.context_before(msg, CONTEXT_MESSAGES)
        key = mod.keyring.new_data_key()
        body = {
            "message": None if msg is None else _msg_dict(msg),
            "context": [_msg_dict(m) for m in context],
            "reporter": None if reporter is None else reporter.pseudonym,
        }
        snapshot = seal(key, orjson.dumps(body), _flag_aad(flag_id))
        wrapped = mod.keyring.wrap(key, context=key_context(flag_id))
    stored = StoredFlag(
        id=flag_id,
        room=room_id,
        message_id=None if msg is None else msg.id,
        author_id=None if msg is None else msg.author.id,
        reporter=None if reporter is None else reporter.id,
        reason=reason,
        created_at=mod.clock.now_ms(),
        status=FlagStatus.OPEN,
        resolution=None,
        snapshot=snapshot,
        snapshot_key=wrapped,
    )
    return stored, await mod.store.add_flag(stored)


def _flag_bucket(room_id: str, reporter: str) -> tuple[str, str]:
    return ("flag:" + room_id, reporter)


async def flag(
    mod: Moderation, actor: Identity, room_id: str, message_id: str, reason: str, *, shown: Member | None = None
) -> FlagResult:
    """Flag a message; a reporter creates at most ``burst`` new flags per room before waiting.

    ``shown`` is the reporter as the room shows them (a numbered name, rule 27); without it, the
    actor's own pseudonym is kept with the snapshot.

    The allowance is taken before any await, so concurrent flags cannot overspend it,
    and given back when no new flag came of it (refused, or a repeat of an earlier flag).
    """
    why = clean_text(reason, field="reason", max_len=MAX_REASON)
    reporter = shown if shown is not None else mod.rooms.member_for(actor, room_id)
    bucket = _flag_bucket(room_id, reporter.id)
    wait = mod.rooms.limiter.take(bucket)
    if wait:
        raise RateLimited(wait, "You are flagging too quickly; wait a moment.")
    try:
        result = await _flag(mod, room_id, reporter, message_id, why)
    except BaseException:
        mod.rooms.limiter.refund(bucket)
        raise
    if not result.created:
        mod.rooms.limiter.refund(bucket)
    return result


async def _flag(mod: Moderation, room_id: str, reporter: Member, message_id: str, why: str) -> FlagResult:
    msg = await mod.rooms.find_message(room_id, message_id)
    stored, kept_id = await _store_flag(mod, room_id, msg, why, reporter)
    if kept_id != stored.id:
        existing = await mod.store.get_flag(kept_id)
        assert existing is not None
        return FlagResult(open_flag(mod, existing), created=False)
    return FlagResult(open_flag(mod, stored), created=True)


async def server_flag(mod: Moderation, room_id: str, msg: Message | None, reason: str, reporter: Member | None) -> Flag:
    """A flag the server opens itself: a crisis signal (no reporter) or a help request (no message)."""
    stored, _ = await _store_flag(mod, room_id, msg, reason, reporter)
    return open_flag(mod, stored)
