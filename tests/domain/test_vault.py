"""Sealing: tampering fails cleanly, purging destroys keys, rotation keeps old data readable."""

from __future__ import annotations

import base64
import logging
import os
from dataclasses import replace
from pathlib import Path

import pytest

from crypto.sealing import Keyring, SealError, open_sealed
from moderation.keys import rotate
from rooms.clock import ManualClock
from rooms.models import RoomSettings
from rooms.vault import KEY_EXTEND_AHEAD_MS, key_context, message_aad
from server.config import Secret
from server.services import open_services
from tests.conftest import TEST_KEY, make_config
from tests.domain.conftest import PEER


async def _send(svc, text: str = "hello"):  # type: ignore[no-untyped-def]
    await svc.rooms.create_room(RoomSettings(name="Circle", id="circle", message_ttl_s=60))
    room = await svc.rooms.get_room("circle")
    return await svc.rooms.send(PEER, room, text, None)


async def test_tampered_or_moved_ciphertext_is_skipped_and_logged(svc, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    msg = await _send(svc, "TAMPER-MARKER")
    sealed = await svc.room_store.get_message("circle", msg.id, now_ms=svc.clock.now_ms())
    flipped = bytearray(sealed.blob)
    flipped[-1] ^= 1
    caplog.set_level(logging.WARNING)
    assert await svc.rooms.vault.open(replace(sealed, blob=bytes(flipped))) is None
    assert await svc.rooms.vault.open(replace(sealed, id="another-id")) is None  # swapped onto another message
    assert await svc.rooms.vault.open(replace(sealed, expires_at=sealed.expires_at + 1)) is None  # expiry extended
    assert await svc.rooms.vault.open(sealed) is not None
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "unseal_failed" in logged and "TAMPER-MARKER" not in logged


async def test_purge_destroys_messages_and_their_keys(svc, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    msg = await _send(svc)
    backup_msg = await svc.room_store.get_message("circle", msg.id, now_ms=clock.now_ms())
    [backup_key] = await svc.room_store.all_keys()
    clock.advance(60_000)
    messages, keys = await svc.rooms.purge()
    assert (messages, keys) == (1, 1)
    assert await svc.room_store.all_keys() == []
    assert await svc.room_store.get_message("circle", msg.id, now_ms=0) is None
    # The live server can no longer open the copied ciphertext: its key is gone from the store.
    assert await svc.rooms.vault.open(backup_msg) is None
    # The copied pair opens only with the secret key it was wrapped under (see docs/SECURITY.md):
    data_key = svc.keyring.unwrap(backup_key.wrapped, context=key_context("circle", backup_key.epoch))
    aad = message_aad("circle", msg.id, msg.ts, msg.expires_at)
    assert open_sealed(data_key, backup_msg.blob, aad)
    # ...and once that secret key is retired, nothing opens it any more.
    retired = Keyring([os.urandom(32)])
    with pytest.raises(SealError):
        retired.unwrap(backup_key.wrapped, context=key_context("circle", backup_key.epoch))


async def test_deleting_a_room_destroys_its_keys(svc) -> None:  # type: ignore[no-untyped-def]
    await _send(svc)
    assert len(await svc.room_store.all_keys()) == 1
    await svc.rooms.delete_room("circle")
    assert await svc.room_store.all_keys() == []


async def test_rotation_keeps_old_messages_and_lets_the_old_key_go(tmp_path: Path) -> None:
    clock = ManualClock()
    old_only = make_config(tmp_path)
    svc = await open_services(old_only, clock)
    msg = await _send(svc, "before rotation")
    await svc.aclose()

    new_key = os.urandom(32)
    both = old_only.replace(secret=Secret((new_key, TEST_KEY)))
    svc = await open_services(both, clock)
    assert [m.text for m in await svc.rooms.history("circle")] == ["before rotation"]
    room = await svc.rooms.get_room("circle")
    clock.advance(3_600_000 + 1)  # a new epoch: its key is wrapped under the new secret
    await svc.rooms.send(PEER, room, "after rotation", None)
    rewrapped, _ = await rotate(svc.mod)
    assert rewrapped == 1
    await svc.aclose()

    clock.set(msg.ts + 1)
    new_only = old_only.replace(secret=Secret((new_key,)))
    svc = await open_services(new_only, clock)
    try:
        assert [m.text for m in await svc.rooms.history("circle")] == ["before rotation", "after rotation"]
        assert svc.rooms.member_for(PEER, "circle").id == msg.author.id  # member ids survive rotation
    finally:
        await svc.aclose()


def test_secret_key_format_in_config() -> None:
    encoded = base64.urlsafe_b64encode(os.urandom(32)).decode()
    from server.config import Config

    config = Config.from_env({"HEARTH_SECRET_KEY": f"{encoded}, {encoded}"})
    assert config.secret is not None and len(config.secret.keys) == 2
    assert encoded not in repr(config)


async def test_purged_rows_leave_no_trace_in_the_sqlite_files(svc, clock: ManualClock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    msg = await _send(svc)
    [key] = await svc.room_store.all_keys()
    clock.advance(60_000)
    await svc.rooms.purge()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("hearth.db*"))
    assert msg.id.encode() not in raw
    assert key.wrapped not in raw


async def test_a_busy_room_extends_its_key_ahead_not_on_every_message(svc, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    first = await _send(svc)
    [key] = await svc.room_store.all_keys()
    assert key.destroy_after == first.expires_at  # a lone message: the key goes with it
    room = await svc.rooms.get_room("circle")
    clock.advance(1)
    second = await svc.rooms.send(PEER, room, "two", None)
    [key] = await svc.room_store.all_keys()
    assert key.destroy_after == second.expires_at + KEY_EXTEND_AHEAD_MS
    clock.advance(KEY_EXTEND_AHEAD_MS // 2)
    third = await svc.rooms.send(PEER, room, "three", None)
    [unchanged] = await svc.room_store.all_keys()
    assert unchanged == key  # no store write: the key already outlives this message
    assert unchanged.destroy_after >= third.expires_at
