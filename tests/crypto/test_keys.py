"""Tests for crypto.keys: parsing HEARTH_SECRET_KEY, generating keys, HKDF subkeys."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.keys import SecretKeyError, derive_key, generate_secret_key, parse_secret_keys

RAW = [bytes([n]) * 32 for n in (1, 2, 3)]


def padded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


def unpadded(raw: bytes) -> str:
    return padded(raw).rstrip("=")


def test_parses_one_key_with_padding() -> None:
    assert parse_secret_keys(padded(RAW[0])) == (RAW[0],)


def test_parses_one_key_without_padding() -> None:
    assert parse_secret_keys(unpadded(RAW[0])) == (RAW[0],)


def test_parses_three_keys_in_order_ignoring_whitespace() -> None:
    value = f" {padded(RAW[0])} ,\n{unpadded(RAW[1])},\t{padded(RAW[2])} "
    assert parse_secret_keys(value) == tuple(RAW)


def test_parses_url_safe_alphabet() -> None:
    raw = b"\xfb\xff" * 16  # encodes to '-' and '_' characters
    assert "-" in padded(raw) or "_" in padded(raw)
    assert parse_secret_keys(padded(raw)) == (raw,)


def test_generated_key_round_trips_and_is_random() -> None:
    first, second = generate_secret_key(), generate_secret_key()
    assert first.endswith("=")
    assert len(parse_secret_keys(first)[0]) == 32
    assert first != second


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_rejects_empty(value: str) -> None:
    with pytest.raises(SecretKeyError, match="HEARTH_SECRET_KEY is empty"):
        parse_secret_keys(value)


def test_rejects_wrong_length_naming_position_and_size() -> None:
    short = unpadded(b"s3cr3t-12byt")
    with pytest.raises(SecretKeyError) as info:
        parse_secret_keys(f"{padded(RAW[0])},{short}")
    message = str(info.value)
    assert message == "HEARTH_SECRET_KEY item 2 must be url-safe base64 of 32 bytes, got 12 bytes"
    assert short not in message


@pytest.mark.parametrize(
    ("item", "detail"),
    [
        (unpadded(b"k" * 31), "got 31 bytes"),
        (unpadded(b"k" * 33), "got 33 bytes"),
        ("not base64!!", "alphabet"),
        (padded(b"\xfb\xff" * 16).replace("-", "+").replace("_", "/"), "alphabet"),  # standard, not url-safe
        ("QUJDRA=", "got 4 bytes"),
        ("QUJDR", "truncated"),
        ("QU=JD", "alphabet"),
        ("", "empty"),
    ],
)
def test_rejects_garbage_without_echoing_it(item: str, detail: str) -> None:
    with pytest.raises(SecretKeyError) as info:
        parse_secret_keys(f"{padded(RAW[0])}, {padded(RAW[1])},{item}")
    message = str(info.value)
    assert message.startswith("HEARTH_SECRET_KEY item 3 must be url-safe base64 of 32 bytes")
    assert detail in message
    if item:
        assert item not in message
    assert padded(RAW[0]) not in message


def test_secret_key_error_is_a_value_error() -> None:
    assert issubclass(SecretKeyError, ValueError)


def test_derive_key_is_hkdf_sha256_with_hearth_info() -> None:
    expected = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hearth/test").derive(RAW[0])
    assert derive_key(RAW[0], b"test") == expected


def test_derive_key_separates_purposes_masters_and_lengths() -> None:
    assert derive_key(RAW[0], b"a") != derive_key(RAW[0], b"b")
    assert derive_key(RAW[0], b"a") != derive_key(RAW[1], b"a")
    assert derive_key(RAW[0], b"a") == derive_key(RAW[0], b"a")
    assert len(derive_key(RAW[0], b"a", length=64)) == 64
