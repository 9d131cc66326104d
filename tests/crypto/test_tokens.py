"""Tests for crypto.tokens: signing, verification, rotation, expiry and garbage."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes, hmac

from crypto.keys import derive_key
from crypto.tokens import TokenError, TokenSigner

KEY_A = b"A" * 32
KEY_B = b"B" * 32
KEY_C = b"C" * 32
NOW = 1_700_000_000


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forge(master: bytes, payload: bytes) -> str:
    """A correctly signed token around an arbitrary payload, to reach the checks after the signature."""
    signing_input = "h1." + b64(payload)
    mac = hmac.HMAC(derive_key(master, b"token/v1"), hashes.SHA256())
    mac.update(signing_input.encode())
    return signing_input + "." + b64(mac.finalize())


def test_round_trip() -> None:
    signer = TokenSigner([KEY_A])
    claims = {"sub": "staff:7", "role": "admin", "exp": NOW + 60, "n": [1, 2]}
    assert signer.verify(signer.sign(claims), now_s=NOW) == claims


def test_format_is_prefix_sorted_compact_json_and_tag() -> None:
    token = TokenSigner([KEY_A]).sign({"b": 1, "a": "x"})
    prefix, payload, tag = token.split(".")
    assert prefix == "h1"
    assert "=" not in payload and "=" not in tag
    assert base64.urlsafe_b64decode(payload + "==") == b'{"a":"x","b":1}'
    assert token == forge(KEY_A, b'{"a":"x","b":1}')


def test_old_key_token_verifies_after_rotation() -> None:
    old_token = TokenSigner([KEY_A]).sign({"sub": "s"})
    rotated = TokenSigner([KEY_B, KEY_A])
    assert rotated.verify(old_token, now_s=NOW) == {"sub": "s"}


def test_signs_with_newest_key() -> None:
    token = TokenSigner([KEY_B, KEY_A]).sign({"sub": "s"})
    assert TokenSigner([KEY_B]).verify(token, now_s=NOW) == {"sub": "s"}
    with pytest.raises(TokenError, match="bad signature"):
        TokenSigner([KEY_A]).verify(token, now_s=NOW)


def test_unknown_key_fails() -> None:
    token = TokenSigner([KEY_C]).sign({"sub": "s"})
    with pytest.raises(TokenError, match="bad signature"):
        TokenSigner([KEY_B, KEY_A]).verify(token, now_s=NOW)


def test_tampered_payload_fails() -> None:
    signer = TokenSigner([KEY_A])
    prefix, _payload, tag = signer.sign({"role": "member"}).split(".")
    forged = ".".join([prefix, b64(b'{"role":"admin"}'), tag])
    with pytest.raises(TokenError, match="bad signature"):
        signer.verify(forged, now_s=NOW)


def test_tampered_tag_fails() -> None:
    signer = TokenSigner([KEY_A])
    prefix, payload, tag = signer.sign({"role": "member"}).split(".")
    raw = bytearray(base64.urlsafe_b64decode(tag + "="))
    raw[0] ^= 1
    with pytest.raises(TokenError, match="bad signature"):
        signer.verify(".".join([prefix, payload, b64(bytes(raw))]), now_s=NOW)


def test_truncated_tag_fails() -> None:
    signer = TokenSigner([KEY_A])
    token = signer.sign({"sub": "s"})
    with pytest.raises(TokenError):
        signer.verify(token[:-4], now_s=NOW)


def test_expiry_is_exclusive() -> None:
    signer = TokenSigner([KEY_A])
    assert signer.verify(signer.sign({"exp": NOW + 1}), now_s=NOW) == {"exp": NOW + 1}
    for exp in (NOW, NOW - 1):
        with pytest.raises(TokenError, match="^expired$"):
            signer.verify(signer.sign({"exp": exp}), now_s=NOW)


@pytest.mark.parametrize("exp", ["9999999999", 1.5e12, True, None, [1]])
def test_non_integer_exp_fails(exp: object) -> None:
    signer = TokenSigner([KEY_A])
    token = signer.sign({"exp": exp})
    if exp is None:  # an explicit null means no expiry, like an absent claim
        assert signer.verify(token, now_s=NOW) == {"exp": None}
        return
    with pytest.raises(TokenError, match="exp"):
        signer.verify(token, now_s=NOW)


@pytest.mark.parametrize(
    "token",
    [
        None,
        123,
        b"h1.e30.AAAA",
        ["h1."],
        "",
        "h1",
        "h1.",
        "h1..",
        "h1.a.b",
        "h1.e30",
        "h1.e30.",
        "h2.e30." + "A" * 43,
        "H1.e30." + "A" * 43,
        "h1.e30." + "A" * 43 + ".x",
        "h1.e3=." + "A" * 43,
        "h1.e30." + "A" * 42 + "!",
        "h1.é30." + "A" * 43,
        "x" * 10_240,
        "h1." + "e" * 10_240 + "." + "A" * 43,
    ],
)
def test_garbage_raises_token_error(token: object) -> None:
    with pytest.raises(TokenError):
        TokenSigner([KEY_A]).verify(token, now_s=NOW)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b'{"a":NaN}', "not JSON"),
        (b"[" * 3000, "not JSON"),
        (b'["sub","s"]', "not a JSON object"),
        (b'"sub"', "not a JSON object"),
        (b"null", "not a JSON object"),
    ],
)
def test_signed_non_object_payload_raises_token_error(payload: bytes, why: str) -> None:
    with pytest.raises(TokenError, match=why):
        TokenSigner([KEY_A]).verify(forge(KEY_A, payload), now_s=NOW)


def padded_claims(total_bytes: int) -> bytes:
    return b'{"p":"' + b"x" * (total_bytes - 8) + b'"}'


def test_length_limit_applies_to_signed_tokens() -> None:
    signer = TokenSigner([KEY_A])
    longest, too_long = forge(KEY_A, padded_claims(3036)), forge(KEY_A, padded_claims(3037))
    assert (len(longest), len(too_long)) == (4095, 4097)
    assert signer.verify(longest, now_s=NOW)["p"] == "x" * 3028
    with pytest.raises(TokenError, match="malformed"):
        signer.verify(too_long, now_s=NOW)
    with pytest.raises(ValueError, match="too large"):
        signer.sign({"p": "x" * 3029})
    assert signer.sign({"p": "x" * 3028}) == longest


def test_error_messages_do_not_echo_the_token() -> None:
    signer = TokenSigner([KEY_A])
    token = TokenSigner([KEY_B]).sign({"sub": "secret-subject"})
    with pytest.raises(TokenError) as info:
        signer.verify(token, now_s=NOW)
    assert "secret-subject" not in str(info.value)
    assert token.split(".")[1] not in str(info.value)


def test_needs_a_key_and_hides_keys_in_repr() -> None:
    with pytest.raises(ValueError, match="at least one"):
        TokenSigner([])
    assert repr(TokenSigner([KEY_A, KEY_B])) == "TokenSigner(2 keys)"
