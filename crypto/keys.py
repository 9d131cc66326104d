"""Master secrets: parsing HEARTH_SECRET_KEY, generating keys and deriving purpose-bound subkeys."""

from __future__ import annotations

import base64
import binascii
import re
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
ENV_NAME = "HEARTH_SECRET_KEY"
# HKDF purposes used inside crypto/; Keyring.derive refuses them so other subkeys cannot collide.
TOKEN_PURPOSE = b"token/v1"
WRAP_PURPOSE = b"wrap/v1"

_URLSAFE_B64 = re.compile(r"[A-Za-z0-9_-]*={0,2}")


class SecretKeyError(ValueError):
    """HEARTH_SECRET_KEY is missing or malformed; the message never contains the key."""


def _decode_item(item: str, position: int) -> bytes:
    what = f"{ENV_NAME} item {position} must be url-safe base64 of {KEY_BYTES} bytes"
    if not item:
        raise SecretKeyError(f"{what}, got an empty item")
    if not _URLSAFE_B64.fullmatch(item):
        raise SecretKeyError(f"{what}, got characters outside the url-safe base64 alphabet")
    body = item.rstrip("=")
    if len(body) % 4 == 1:
        raise SecretKeyError(f"{what}, got a truncated base64 string")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise SecretKeyError(f"{what}, got invalid base64") from None
    if len(raw) != KEY_BYTES:
        raise SecretKeyError(f"{what}, got {len(raw)} bytes")
    return raw


def parse_secret_keys(value: str) -> tuple[bytes, ...]:
    """Parse a comma-separated list of keys, newest first; raise SecretKeyError naming the bad item."""
    if not value.strip():
        raise SecretKeyError(f"{ENV_NAME} is empty; set it to one or more comma-separated keys, newest first")
    return tuple(_decode_item(item.strip(), n) for n, item in enumerate(value.split(","), start=1))


def generate_secret_key() -> str:
    """Return a fresh key as url-safe base64 (with padding), suitable for HEARTH_SECRET_KEY."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def derive_key(master: bytes, purpose: bytes, length: int = 32) -> bytes:
    """HKDF-SHA256 of the master secret, bound to `purpose` so subkeys for different uses are independent."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=b"hearth/" + purpose)
    return hkdf.derive(master)
