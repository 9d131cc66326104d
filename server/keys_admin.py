"""``hearth keys rotate``: re-wrap every stored data key under the newest secret key."""

from __future__ import annotations

from moderation.flag import key_context as flag_key_context
from rooms.vault import key_context
from server.services import Services

META_KEYS = ("member_ids",)


async def rotate(svc: Services) -> tuple[int, int]:
    keyring = svc.keyring
    rooms = 0
    for key in await svc.room_store.all_keys():
        context = key_context(key.room, key.epoch)
        if keyring.needs_rewrap(key.wrapped):
            await svc.room_store.replace_wrapped(key.room, key.epoch, keyring.rewrap(key.wrapped, context=context))
            rooms += 1
    flags = 0
    for flag_id, wrapped in await svc.mod_store.all_flag_keys():
        if keyring.needs_rewrap(wrapped):
            await svc.mod_store.replace_flag_key(flag_id, keyring.rewrap(wrapped, context=flag_key_context(flag_id)))
            flags += 1
    for name in META_KEYS:
        wrapped_meta = await svc.room_store.get_meta(name)
        if wrapped_meta is not None and keyring.needs_rewrap(wrapped_meta):
            await svc.room_store.set_meta(name, keyring.rewrap(wrapped_meta, context=f"meta:{name}"))
    return rooms, flags
