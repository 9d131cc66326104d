"""Staff password hashing with scrypt: "scrypt$<log2 n>$<r>$<p>$<salt>$<hash>" (base64url, no padding)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re

LOG2_N = 15
R = 8
P = 1
SALT_BYTES = 16
HASH_BYTES = 32

# Bounds on parameters read back from storage, so a corrupt or hostile hash cannot make
# verify_password allocate gigabytes or spin for minutes.
_MAX_MEMORY_BYTES = 128 * 1024 * 1024  # four times what LOG2_N/R use today
_MAX_P = 16
_ENCODED = re.compile(
    r"scrypt\$([0-9]{1,2})\$([0-9]{1,3})\$([0-9]{1,2})\$([A-Za-z0-9_-]{11,88})\$([A-Za-z0-9_-]{22,88})"
)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _secret(password: str) -> bytes:
    # surrogatepass: a lone surrogate (valid in JSON strings) must not turn a login into a crash.
    return password.encode("utf-8", "surrogatepass")


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int, length: int) -> bytes:
    # hashlib's scrypt (OpenSSL) releases the GIL while it works, whatever version of `cryptography`
    # is installed, so running it in a thread keeps the event loop free (some releases of
    # `cryptography` hold the GIL through scrypt).
    maxmem = 128 * r * (2**log2_n + p + 2) + 1024 * 1024
    return hashlib.scrypt(_secret(password), salt=salt, n=2**log2_n, r=r, p=p, maxmem=maxmem, dklen=length)


def hash_password(password: str) -> str:
    """Hash `password` with a fresh salt (slow by design: run it in a thread)."""
    salt = os.urandom(SALT_BYTES)
    digest = _scrypt(password, salt, LOG2_N, R, P, HASH_BYTES)
    return f"scrypt${LOG2_N}${R}${P}${_b64encode(salt)}${_b64encode(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Return whether `password` matches `encoded`, in constant time; False for any malformed hash."""
    if not isinstance(password, str) or not isinstance(encoded, str):
        return False
    match = _ENCODED.fullmatch(encoded)
    if match is None:
        return False
    log2_n, r, p = (int(group) for group in match.group(1, 2, 3))
    if not (1 <= log2_n <= 24 and 1 <= r and 1 <= p <= _MAX_P) or 128 * r * 2**log2_n > _MAX_MEMORY_BYTES:
        return False
    try:
        salt, expected = _b64decode(match.group(4)), _b64decode(match.group(5))
    except (binascii.Error, ValueError):
        return False
    if not 16 <= len(expected) <= 64:
        return False
    try:
        actual = _scrypt(password, salt, log2_n, r, p, len(expected))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


# A hash of a random password nobody knows, with the current parameters: a login for an unknown
# name verifies against it so that it takes as long as one for a known name.
DUMMY_HASH = "scrypt$15$8$1$oRef0yB6Ljwy2ExbUiZeXw$0JDx00oo-R-JxZKAmewW9-XbiI8CNUDzRiobWSDiGkE"
