"""AES-GCM sealing at rest: seal/open_sealed for blobs, and a Keyring that wraps per-room data keys."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto.keys import TOKEN_PURPOSE, WRAP_PURPOSE, derive_key

VERSION = b"\x01"
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
KID_BYTES = 4
WRAP_AAD_PREFIX = b"hearth-wrap/v1\x00"
_RESERVED_PURPOSES = frozenset({WRAP_PURPOSE, TOKEN_PURPOSE})


class SealError(Exception):
    """A blob failed to open: wrong key, wrong associated data, tampering, or a malformed blob."""


def _aead(key: bytes) -> AESGCM:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise SealError(f"key must be {KEY_BYTES} bytes")
    return AESGCM(key)


def seal(data_key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt `plaintext` bound to `aad`: returns version byte + 12-byte nonce + ciphertext and tag."""
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + _aead(data_key).encrypt(nonce, plaintext, aad)


def open_sealed(data_key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Decrypt a blob from seal(); raise SealError (never with content) on any failure."""
    aead = _aead(data_key)
    if not isinstance(blob, bytes) or len(blob) < 1 + NONCE_BYTES + TAG_BYTES:
        raise SealError("sealed blob is too short")
    if blob[:1] != VERSION:
        raise SealError("sealed blob has an unknown version")
    try:
        return aead.decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
    except InvalidTag:
        raise SealError("sealed blob failed authentication (wrong key, wrong context or tampered)") from None


def _wrap_aad(context: str) -> bytes:
    return WRAP_AAD_PREFIX + context.encode("utf-8")


class Keyring:
    """Wraps data keys under key-encryption keys derived from the master secrets (newest first)."""

    def __init__(self, master_keys: Sequence[bytes]) -> None:
        if not master_keys:
            raise ValueError("Keyring needs at least one master key")
        self._newest_master = master_keys[0]
        self._keks: list[tuple[bytes, AESGCM]] = []
        for master in master_keys:
            kek = derive_key(master, WRAP_PURPOSE)
            self._keks.append((hashlib.sha256(kek).digest()[:KID_BYTES], AESGCM(kek)))

    def __repr__(self) -> str:
        return f"Keyring({len(self._keks)} keys)"

    @staticmethod
    def new_data_key() -> bytes:
        """Return a fresh random 32-byte data key."""
        return os.urandom(KEY_BYTES)

    def wrap(self, data_key: bytes, *, context: str) -> bytes:
        """Encrypt a data key under the newest KEK, bound to `context` (e.g. room and epoch)."""
        if not isinstance(data_key, bytes) or len(data_key) != KEY_BYTES:
            raise SealError(f"data key must be {KEY_BYTES} bytes")
        kid, aead = self._keks[0]
        nonce = os.urandom(NONCE_BYTES)
        return VERSION + kid + nonce + aead.encrypt(nonce, data_key, _wrap_aad(context))

    def unwrap(self, wrapped: bytes, *, context: str) -> bytes:
        """Recover a data key wrapped under any known KEK; raise SealError otherwise."""
        kid = self._kid(wrapped)
        nonce = wrapped[1 + KID_BYTES : 1 + KID_BYTES + NONCE_BYTES]
        body = wrapped[1 + KID_BYTES + NONCE_BYTES :]
        candidates = [aead for known, aead in self._keks if known == kid]
        if not candidates:
            raise SealError("wrapped key is under an unknown key-encryption key")
        for aead in candidates:  # more than one only on a 4-byte kid collision
            try:
                data_key = aead.decrypt(nonce, body, _wrap_aad(context))
            except InvalidTag:
                continue
            if len(data_key) == KEY_BYTES:
                return data_key
        raise SealError("wrapped key failed authentication (wrong context or tampered)")

    def needs_rewrap(self, wrapped: bytes) -> bool:
        """True when `wrapped` is not under the newest KEK; SealError when it is malformed."""
        return self._kid(wrapped) != self._keks[0][0]

    def rewrap(self, wrapped: bytes, *, context: str) -> bytes:
        """Re-encrypt a wrapped data key under the newest KEK."""
        return self.wrap(self.unwrap(wrapped, context=context), context=context)

    def derive(self, purpose: bytes) -> bytes:
        """A 32-byte subkey of the newest master for `purpose` (not one of the purposes used here)."""
        if purpose in _RESERVED_PURPOSES:
            raise ValueError("purpose is reserved for crypto's own keys")
        return derive_key(self._newest_master, purpose)

    @staticmethod
    def _kid(wrapped: bytes) -> bytes:
        if not isinstance(wrapped, bytes) or len(wrapped) < 1 + KID_BYTES + NONCE_BYTES + TAG_BYTES:
            raise SealError("wrapped key is too short")
        if wrapped[:1] != VERSION:
            raise SealError("wrapped key has an unknown version")
        return wrapped[1 : 1 + KID_BYTES]
