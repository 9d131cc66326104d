"""Signed tokens: "h1." + base64url(JSON claims) + "." + base64url(HMAC-SHA256), with key rotation."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import constant_time, hashes, hmac

from crypto.keys import TOKEN_PURPOSE, derive_key

PREFIX = "h1."
MAX_TOKEN_CHARS = 4096

_B64URL_NOPAD = re.compile(r"[A-Za-z0-9_-]*")
_TAG_BYTES = 32


class TokenError(Exception):
    """A token was malformed, carried a bad signature, or has expired; the message never echoes it."""


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not _B64URL_NOPAD.fullmatch(text) or len(text) % 4 == 1:
        raise TokenError("malformed token")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("malformed token") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


class TokenSigner:
    """Signs with the newest master key and verifies against all of them, so keys can rotate."""

    def __init__(self, master_keys: Sequence[bytes]) -> None:
        if not master_keys:
            raise ValueError("TokenSigner needs at least one master key")
        self._keys = tuple(derive_key(master, TOKEN_PURPOSE) for master in master_keys)

    def __repr__(self) -> str:
        return f"TokenSigner({len(self._keys)} keys)"

    def stamp(self, data: bytes) -> str:
        """A short keyed digest of `data` to bind a token to a value (say, a password hash) that may change."""
        return _b64encode(self._tag(self._keys[0], b"stamp\x00" + data).finalize()[:12])

    def stamp_matches(self, data: bytes, stamp: object) -> bool:
        """Whether `stamp` is the stamp of `data` under any of the keys (so rotation keeps tokens valid)."""
        if not isinstance(stamp, str):
            return False
        for key in self._keys:
            expected = _b64encode(self._tag(key, b"stamp\x00" + data).finalize()[:12])
            if constant_time.bytes_eq(expected.encode("ascii"), stamp.encode("utf-8", "surrogatepass")):
                return True
        return False

    def _tag(self, key: bytes, signing_input: bytes) -> hmac.HMAC:
        mac = hmac.HMAC(key, hashes.SHA256())
        mac.update(signing_input)
        return mac

    def sign(self, claims: Mapping[str, Any]) -> str:
        """Return a token carrying `claims`; an "exp" claim (int seconds) bounds its lifetime."""
        payload = json.dumps(dict(claims), separators=(",", ":"), sort_keys=True, allow_nan=False)
        signing_input = PREFIX + _b64encode(payload.encode("utf-8"))
        tag = self._tag(self._keys[0], signing_input.encode("ascii")).finalize()
        token = signing_input + "." + _b64encode(tag)
        if len(token) >= MAX_TOKEN_CHARS:
            raise ValueError(f"claims too large: token of {len(token)} chars, limit {MAX_TOKEN_CHARS - 1}")
        return token

    def verify(self, token: object, *, now_s: int) -> dict[str, Any]:
        """Return the claims of a valid, unexpired token; raise TokenError for anything else."""
        if not isinstance(token, str) or len(token) >= MAX_TOKEN_CHARS:
            raise TokenError("malformed token")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] + "." != PREFIX:
            raise TokenError("malformed token")
        payload, tag = _b64decode(parts[1]), _b64decode(parts[2])
        signing_input = PREFIX + parts[1]
        if len(tag) != _TAG_BYTES:
            raise TokenError("malformed token")
        # The regex check in _b64decode makes the signing input pure ASCII.
        if not any(self._tag_matches(key, signing_input.encode("ascii"), tag) for key in self._keys):
            raise TokenError("bad signature")
        claims = self._decode_claims(payload)
        exp = claims.get("exp")
        if exp is not None:
            if isinstance(exp, bool) or not isinstance(exp, int):
                raise TokenError("malformed token: exp must be an integer")
            if exp <= now_s:
                raise TokenError("expired")
        return claims

    def _tag_matches(self, key: bytes, signing_input: bytes, tag: bytes) -> bool:
        try:
            self._tag(key, signing_input).verify(tag)
        except InvalidSignature:
            return False
        return True

    @staticmethod
    def _decode_claims(payload: bytes) -> dict[str, Any]:
        try:
            claims = json.loads(payload.decode("utf-8"), parse_constant=_reject_constant)
        except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise TokenError("malformed token: claims are not JSON") from None
        if not isinstance(claims, dict):
            raise TokenError("malformed token: claims are not a JSON object")
        return claims
