"""Sealing of message bodies under per-room, per-epoch data keys that are destroyed on time."""

from __future__ import annotations

import logging

import orjson

from crypto.sealing import Keyring, SealError, open_sealed, seal
from rooms.clock import Clock
from rooms.models import Member, Message, Role, RoomKey, SealedMessage
from rooms.store import RoomStore

log = logging.getLogger(__name__)


def message_aad(room: str, message_id: str, ts: int, expires_at: int) -> bytes:
    # Binding ids and times means a ciphertext moved to another message, or given a later
    # expiry, no longer opens.
    return f"hearth-msg/v1|{room}|{message_id}|{ts}|{expires_at}".encode()


# A key is extended past a new message's expiry by this much more, so a busy room extends its
# key about once per this interval instead of on every message (each extension is a store
# write). A key outlives the last message sealed under it by at most this; the purge runs
# every few seconds anyway.
KEY_EXTEND_AHEAD_MS = 10_000


def key_context(room: str, epoch: int) -> str:
    return f"room:{room}:epoch:{epoch}"


INSTANCE_KEYS = ("member_ids",)  # random keys of this deployment, kept wrapped in the store's meta


def instance_key_context(name: str) -> str:
    return f"meta:{name}"


async def instance_key(store: RoomStore, keyring: Keyring, name: str) -> bytes:
    """A random key kept in the store, wrapped, so it survives key rotation unchanged."""
    context = instance_key_context(name)
    wrapped = await store.get_meta(name)
    if wrapped is None:
        wrapped = await store.put_meta_if_absent(name, keyring.wrap(keyring.new_data_key(), context=context))
    return keyring.unwrap(wrapped, context=context)


async def rewrap_room_keys(store: RoomStore, keyring: Keyring) -> int:
    """Re-wrap every room data key and instance key under the newest secret; the number of room keys."""
    count = 0
    for key in await store.all_keys():
        if keyring.needs_rewrap(key.wrapped):
            await store.replace_wrapped(
                key.room, key.epoch, keyring.rewrap(key.wrapped, context=key_context(key.room, key.epoch))
            )
            count += 1
    for name in INSTANCE_KEYS:
        wrapped = await store.get_meta(name)
        if wrapped is not None and keyring.needs_rewrap(wrapped):
            await store.set_meta(name, keyring.rewrap(wrapped, context=instance_key_context(name)))
    return count


class MessageVault:
    """Seals and opens messages; keeps unwrapped data keys in memory until they are destroyed."""

    def __init__(self, keyring: Keyring, store: RoomStore, clock: Clock, *, epoch_ms: int) -> None:
        self.keyring = keyring
        self.store = store
        self.clock = clock
        self.epoch_ms = epoch_ms
        self._keys: dict[tuple[str, int], tuple[bytes, int]] = {}  # (room, epoch) -> (key, destroy_after)

    async def _key_for_sealing(self, room: str, epoch: int, expires_at: int) -> bytes:
        cached = self._keys.get((room, epoch))
        if cached is not None and cached[1] <= self.clock.now_ms():
            cached = None  # destroyed (or about to be) by the purge: never seal under it again
        if cached is None:
            stored = await self.store.get_key(room, epoch)
            if stored is None:
                fresh = self.keyring.new_data_key()
                wrapped = self.keyring.wrap(fresh, context=key_context(room, epoch))
                stored = await self.store.put_key(RoomKey(room, epoch, wrapped, expires_at))
            cached = (self.keyring.unwrap(stored.wrapped, context=key_context(room, epoch)), stored.destroy_after)
            self._keys[(room, epoch)] = cached
        key, destroy_after = cached
        if expires_at > destroy_after:
            # The key must outlive every message under it; expiries grow with the clock, so
            # extend a little further than needed (KEY_EXTEND_AHEAD_MS) and not on every send.
            extended = expires_at + KEY_EXTEND_AHEAD_MS
            if not await self.store.extend_key(room, epoch, extended):
                self._keys.pop((room, epoch), None)  # purged meanwhile by another process
                return await self._key_for_sealing(room, epoch, expires_at)
            self._keys[(room, epoch)] = (key, extended)
        return key

    async def _key_for_opening(self, room: str, epoch: int) -> bytes | None:
        cached = self._keys.get((room, epoch))
        if cached is not None:
            return cached[0]
        stored = await self.store.get_key(room, epoch)
        if stored is None:
            return None
        key = self.keyring.unwrap(stored.wrapped, context=key_context(room, epoch))
        self._keys[(room, epoch)] = (key, stored.destroy_after)
        return key

    async def seal(self, msg: Message) -> SealedMessage:
        epoch = msg.ts // self.epoch_ms
        key = await self._key_for_sealing(msg.room, epoch, msg.expires_at)
        payload = orjson.dumps(
            {
                "t": msg.text,
                "a": [msg.author.id, msg.author.pseudonym, int(msg.author.role)],
                "c": msg.client_id,
                "r": msg.reply_to,
            }
        )
        blob = seal(key, payload, message_aad(msg.room, msg.id, msg.ts, msg.expires_at))
        return SealedMessage(msg.room, msg.id, msg.ts, msg.expires_at, epoch, blob)

    async def open(self, sealed: SealedMessage) -> Message | None:
        """The message, or None when its key is gone or it fails authentication (logged, no content)."""
        try:
            key = await self._key_for_opening(sealed.room, sealed.epoch)
            if key is None:
                return None
            data = orjson.loads(
                open_sealed(key, sealed.blob, message_aad(sealed.room, sealed.id, sealed.ts, sealed.expires_at))
            )
            author_id, pseudonym, role = data["a"]
            return Message(
                id=sealed.id,
                room=sealed.room,
                author=Member(author_id, pseudonym, Role(role)),
                text=data["t"],
                ts=sealed.ts,
                expires_at=sealed.expires_at,
                client_id=data.get("c"),
                reply_to=data.get("r"),
            )
        except (SealError, ValueError, KeyError, TypeError):
            log.warning("room=%s message=%s event=unseal_failed", sealed.room, sealed.id)
            return None

    def forget_room(self, room: str) -> None:
        for key in [k for k in self._keys if k[0] == room]:
            del self._keys[key]

    def prune(self, now_ms: int) -> None:
        """Drop cached keys whose time is up, as the purge destroys them in the store."""
        for key in [k for k, (_, until) in self._keys.items() if until <= now_ms]:
            del self._keys[key]
