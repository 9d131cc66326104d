"""Unique names in a room (precise rule 27): the candidates a member may show, as opaque keyed hashes."""

from __future__ import annotations

import base64
import hashlib
import hmac

from rooms.pseudonyms import fold

MAX_NUMBER = 100  # "Calm River 100" is the last candidate; past it a member shows their name unnumbered


def numbered(pseudonym: str, number: int) -> str:
    """The name shown in a room: the pseudonym, or the pseudonym, a space and its number from 2 up."""
    return pseudonym if number <= 1 else f"{pseudonym} {number}"


class RoomNames:
    """Keys for names in a room: equal exactly when the names fold alike, and meaningless without the key.

    Presence (in Redis too) decides the number by comparing these keys, so no pseudonym, folded or
    not, is kept in the clear for it.
    """

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __repr__(self) -> str:
        return "RoomNames(**********)"

    def key(self, room_id: str, name: str) -> str:
        digest = hmac.new(self._key, f"{room_id}\x00{fold(name)}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:15]).decode().lower()

    def candidates(self, room_id: str, pseudonym: str) -> list[str]:
        """Keys of the pseudonym, then of "pseudonym 2", "pseudonym 3" ... up to MAX_NUMBER."""
        return [self.key(room_id, numbered(pseudonym, n)) for n in range(1, MAX_NUMBER + 1)]
