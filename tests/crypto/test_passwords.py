"""Tests for crypto.passwords: scrypt hashing, verification and malformed hashes (~100 ms per scrypt)."""

from __future__ import annotations

import base64

import pytest

from crypto.passwords import DUMMY_HASH, hash_password, verify_password

PASSWORD = "correct horse battery staple ☕"
SALT = base64.urlsafe_b64encode(b"s" * 16).rstrip(b"=").decode()
DIGEST = base64.urlsafe_b64encode(b"h" * 32).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def encoded() -> str:
    return hash_password(PASSWORD)


def test_hash_format(encoded: str) -> None:
    scheme, log2_n, r, p, salt, digest = encoded.split("$")
    assert (scheme, log2_n, r, p) == ("scrypt", "15", "8", "1")
    assert len(base64.urlsafe_b64decode(salt + "==")) == 16
    assert len(base64.urlsafe_b64decode(digest + "=")) == 32
    assert PASSWORD not in encoded


def test_verifies_right_password_and_refuses_wrong_one(encoded: str) -> None:
    assert verify_password(PASSWORD, encoded) is True
    assert verify_password(PASSWORD + " ", encoded) is False


def test_salt_is_fresh_per_hash(encoded: str) -> None:
    assert hash_password(PASSWORD).split("$")[4] != encoded.split("$")[4]


def test_dummy_hash_is_valid_with_current_parameters(encoded: str) -> None:
    assert DUMMY_HASH.split("$")[:4] == encoded.split("$")[:4]
    assert len(DUMMY_HASH) == len(encoded)
    assert verify_password("", DUMMY_HASH) is False


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "scrypt",
        "scrypt$15$8$1",
        f"scrypt$15$8$1${SALT}",
        f"bcrypt$15$8$1${SALT}${DIGEST}",
        f"scrypt$15$8$1${SALT}${DIGEST}$extra",
        f"scrypt$x$8$1${SALT}${DIGEST}",
        f"scrypt$١٥$8$1${SALT}${DIGEST}",  # non-ASCII digits
        f"scrypt$-1$8$1${SALT}${DIGEST}",
        f"scrypt$0$8$1${SALT}${DIGEST}",
        f"scrypt$15$0$1${SALT}${DIGEST}",
        f"scrypt$15$8$0${SALT}${DIGEST}",
        f"scrypt$40$8$1${SALT}${DIGEST}",  # would need terabytes: refused before hashing
        f"scrypt$15$999$1${SALT}${DIGEST}",
        f"scrypt$15$8$99${SALT}${DIGEST}",
        f"scrypt$15$8$1$!!!!!!!!!!!!!!!!!!!!!!${DIGEST}",
        f"scrypt$15$8$1${SALT}${DIGEST}=",
        f"scrypt$15$8$1${SALT}${DIGEST[:-1]}",  # 4n+1 base64 characters
        f"scrypt$15$8$1$${DIGEST}",
        f" scrypt$15$8$1${SALT}${DIGEST}",
    ],
)
def test_malformed_hash_returns_false(bad: str) -> None:
    assert verify_password(PASSWORD, bad) is False


@pytest.mark.parametrize("bad", [None, 123, b"scrypt$15$8$1$"])
def test_non_string_hash_returns_false(bad: object) -> None:
    assert verify_password(PASSWORD, bad) is False  # type: ignore[arg-type]


def test_lone_surrogate_password_does_not_crash(encoded: str) -> None:
    assert verify_password("\ud800", encoded) is False
