"""Message text rules (precise rule 7)."""

from __future__ import annotations

import pytest

from rooms.errors import Invalid
from rooms.text import clean_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hello", "hello"),
        ("  padded \n", "padded"),
        ("e\u0301", "\u00e9"),
        ("a\x00b\x1bc\x7fd\x85e", "abcde"),
        ("keep\ttabs\nand lines", "keep\ttabs\nand lines"),
        ("\u202eevil\u2066x\u2069", "evilx"),
        ("\U0001f469\u200d\U0001f4bb", "\U0001f469\u200d\U0001f4bb"),
        ("x" * 2000, "x" * 2000),
    ],
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "\x00\x01", "\u202e", "x" * 2001, "y" * 100_000])
def test_invalid_text(raw: str) -> None:
    with pytest.raises(Invalid) as info:
        clean_text(raw)
    assert info.value.code == "invalid" and info.value.details["field"] == "text"
