"""Key rotation: re-wrap every stored data key (rooms, flag snapshots, instance keys) under the newest secret."""

from __future__ import annotations

from moderation.context import Moderation
from moderation.flag import key_context as flag_key_context
from rooms.vault import rewrap_room_keys


async def rotate(mod: Moderation) -> tuple[int, int]:
    """Returns how many room keys and flag keys were re-wrapped."""
    keyring = mod.keyring
    rooms = await rewrap_room_keys(mod.rooms.store, keyring)
    flags = 0
    for flag_id, wrapped in await mod.store.all_flag_keys():
        if keyring.needs_rewrap(wrapped):
            await mod.store.replace_flag_key(flag_id, keyring.rewrap(wrapped, context=flag_key_context(flag_id)))
            flags += 1
    return rooms, flags
