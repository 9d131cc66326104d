"""Normalisation and limits of user text (docs/PROTOCOL.md precise rule 7)."""

from __future__ import annotations

import re
import unicodedata

from rooms.errors import Invalid

MAX_TEXT = 2000
MAX_GUIDELINES = 4000
# The longest raw string worth normalising: NFC may shrink text, so allow some slack.
MAX_RAW_TEXT = MAX_GUIDELINES * 4 + 64
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Category Cc except tab and newline, plus the bidi embedding/isolate controls.
_STRIP = re.compile("[" + "".join(chr(c) for c in range(0x20) if chr(c) not in "\t\n") + "\x7f-\x9f" + _BIDI + "]")


def clean_text(raw: str, *, field: str = "text", max_len: int = MAX_TEXT, min_len: int = 1) -> str:
    """NFC, drop control and bidi characters, trim; then require min_len..max_len code points."""
    if len(raw) > max_len * 4 + 64:  # cheap early refusal of huge payloads before normalising
        raise Invalid(f"{field} must be at most {max_len} characters.", field=field)
    text = _STRIP.sub("", unicodedata.normalize("NFC", raw)).strip()
    if len(text) < min_len:
        raise Invalid(f"{field} must not be empty.", field=field)
    if len(text) > max_len:
        raise Invalid(f"{field} must be at most {max_len} characters.", field=field)
    return text
