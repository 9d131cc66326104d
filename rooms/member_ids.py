"""Per-room member ids: a keyed hash of the identity, so ids do not link a person across rooms."""

from __future__ import annotations

import base64
import hashlib
import hmac

# Ids recently asked for, kept so a busy sender's every message does not cost an HMAC.
CACHE_SIZE = 4096


class MemberIds:
    def __init__(self, key: bytes) -> None:
        self._key = key
        self._cache: dict[tuple[str, str], str] = {}

    def __repr__(self) -> str:
        return "MemberIds(**********)"

    def member_id(self, room_id: str, identity_id: str) -> str:
        found = self._cache.get((room_id, identity_id))
        if found is not None:
            return found
        digest = hmac.new(self._key, f"{room_id}\x00{identity_id}".encode(), hashlib.sha256).digest()
        # "m_" prefix: never equal to an identity id (which start "u_" or "s_"), rule 21.
        member_id = "m_" + base64.b32encode(digest[:15]).decode().lower()
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[(room_id, identity_id)] = member_id
        return member_id

    def reaction_tag(self, room_id: str, message_id: str, member_id: str) -> str:
        """Who reacted, as stored: one tag per member and message, linking neither to the member id
        nor across messages, so the store can count and toggle a member's reaction without naming them."""
        digest = hmac.new(self._key, f"reaction\x00{room_id}\x00{message_id}\x00{member_id}".encode(), hashlib.sha256)
        return digest.hexdigest()[:24]
