"""Tests for crypto.sealing: AES-GCM blobs and the Keyring that wraps data keys."""

from __future__ import annotations

import pytest

from crypto.keys import derive_key
from crypto.sealing import Keyring, SealError, open_sealed, seal

DATA_KEY = bytes(range(32))
AAD = b"room:r1|msg:m1"
MASTER_A = b"A" * 32
MASTER_B = b"B" * 32
CONTEXT = "room:r1|epoch:42"


def test_open_reverses_seal() -> None:
    plaintext = "I am having a hard week ☁".encode()
    blob = seal(DATA_KEY, plaintext, AAD)
    assert blob[:1] == b"\x01"
    assert len(blob) == 1 + 12 + len(plaintext) + 16
    assert plaintext not in blob
    assert open_sealed(DATA_KEY, blob, AAD) == plaintext


def test_empty_plaintext_round_trips() -> None:
    assert open_sealed(DATA_KEY, seal(DATA_KEY, b"", AAD), AAD) == b""


def test_nonce_is_fresh() -> None:
    assert seal(DATA_KEY, b"same", AAD)[1:13] != seal(DATA_KEY, b"same", AAD)[1:13]


def test_wrong_aad_fails() -> None:
    blob = seal(DATA_KEY, b"secret text", AAD)
    with pytest.raises(SealError) as info:
        open_sealed(DATA_KEY, blob, b"room:r2|msg:m1")
    assert "secret text" not in str(info.value)


@pytest.mark.parametrize("index", [1, 12, 13, -1])
def test_flipped_byte_fails(index: int) -> None:
    blob = bytearray(seal(DATA_KEY, b"secret text", AAD))
    blob[index] ^= 0x01
    with pytest.raises(SealError):
        open_sealed(DATA_KEY, bytes(blob), AAD)


def test_wrong_key_fails() -> None:
    blob = seal(DATA_KEY, b"secret text", AAD)
    with pytest.raises(SealError):
        open_sealed(bytes(32), blob, AAD)


@pytest.mark.parametrize("key", [b"", bytes(16), bytes(24), bytes(33)])
def test_wrong_key_length_fails(key: bytes) -> None:
    blob = seal(DATA_KEY, b"x", AAD)
    with pytest.raises(SealError, match="32 bytes"):
        open_sealed(key, blob, AAD)
    with pytest.raises(SealError, match="32 bytes"):
        seal(key, b"x", AAD)


def test_malformed_blobs_fail() -> None:
    blob = seal(DATA_KEY, b"x", AAD)
    for bad in (b"", b"\x01", blob[:28], b"\x02" + blob[1:], b"\x00" * 64):
        with pytest.raises(SealError):
            open_sealed(DATA_KEY, bad, AAD)
    with pytest.raises(SealError):
        open_sealed(DATA_KEY, "not bytes", AAD)  # type: ignore[arg-type]


def test_keyring_round_trip_and_format() -> None:
    ring = Keyring([MASTER_A])
    data_key = ring.new_data_key()
    assert len(data_key) == 32 and data_key != ring.new_data_key()
    wrapped = ring.wrap(data_key, context=CONTEXT)
    assert wrapped[:1] == b"\x01" and len(wrapped) == 1 + 4 + 12 + 32 + 16
    assert data_key not in wrapped
    assert ring.unwrap(wrapped, context=CONTEXT) == data_key
    assert ring.needs_rewrap(wrapped) is False


def test_rotation_rewraps_under_newest_key() -> None:
    data_key = Keyring.new_data_key()
    wrapped_a = Keyring([MASTER_A]).wrap(data_key, context=CONTEXT)
    rotated = Keyring([MASTER_B, MASTER_A])
    assert rotated.unwrap(wrapped_a, context=CONTEXT) == data_key
    assert rotated.needs_rewrap(wrapped_a) is True
    wrapped_b = rotated.rewrap(wrapped_a, context=CONTEXT)
    assert rotated.needs_rewrap(wrapped_b) is False
    only_b = Keyring([MASTER_B])
    assert only_b.unwrap(wrapped_b, context=CONTEXT) == data_key
    with pytest.raises(SealError, match="unknown"):
        only_b.unwrap(wrapped_a, context=CONTEXT)


def test_wrong_context_fails() -> None:
    ring = Keyring([MASTER_A])
    wrapped = ring.wrap(ring.new_data_key(), context=CONTEXT)
    with pytest.raises(SealError):
        ring.unwrap(wrapped, context="room:r1|epoch:43")
    with pytest.raises(SealError):
        ring.rewrap(wrapped, context="room:r2|epoch:42")


def test_tampered_or_malformed_wrapped_key_fails() -> None:
    ring = Keyring([MASTER_A])
    wrapped = ring.wrap(ring.new_data_key(), context=CONTEXT)
    flipped = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
    for bad in (flipped, wrapped[:20], b"\x02" + wrapped[1:], b""):
        with pytest.raises(SealError):
            ring.unwrap(bad, context=CONTEXT)
    with pytest.raises(SealError):
        ring.needs_rewrap(b"\x02" + wrapped[1:])


def test_wrap_refuses_a_data_key_of_the_wrong_size() -> None:
    with pytest.raises(SealError, match="32 bytes"):
        Keyring([MASTER_A]).wrap(bytes(16), context=CONTEXT)


def test_derive_uses_newest_master_and_refuses_reserved_purposes() -> None:
    ring = Keyring([MASTER_B, MASTER_A])
    assert ring.derive(b"member-id/v1") == derive_key(MASTER_B, b"member-id/v1")
    assert ring.derive(b"member-id/v1") != ring.derive(b"other/v1")
    for reserved in (b"wrap/v1", b"token/v1"):
        with pytest.raises(ValueError, match="reserved"):
            ring.derive(reserved)


def test_keyring_needs_a_key_and_hides_keys_in_repr() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Keyring([])
    ring = Keyring([MASTER_B, MASTER_A])
    assert repr(ring) == "Keyring(2 keys)"
    assert str(ring) == "Keyring(2 keys)"
