"""TEMPORARY placeholder until the real pseudonym rules land."""

from __future__ import annotations

import re
import unicodedata

from rooms.errors import Invalid


def validate_pseudonym(raw: object) -> str:
    if not isinstance(raw, str):
        raise Invalid("pseudonym must be a string", field="pseudonym")
    name = unicodedata.normalize("NFC", raw).strip()
    if not 2 <= len(name) <= 32:
        raise Invalid("Pseudonym must be 2 to 32 characters.", field="pseudonym")
    if not all(c.isalnum() or c in " -_." for c in name):
        raise Invalid("bad chars", field="pseudonym")
    low = name.lower().replace("1", "i").replace("0", "o")
    if any(w in re.split(r"[ _.-]", low) for w in ("admin", "adm1n", "admins", "staff", "staff_2")) or "staff" in low or low.replace(" ", "") == "admin" or "admin" in re.split(r"[ _.\-0-9]", low):
        raise Invalid("Pseudonym may not pose as staff.", field="pseudonym")
    return name


def validate_staff_name(raw: object) -> str:
    if not isinstance(raw, str) or not re.fullmatch(r"[a-z0-9_.-]{2,32}", raw):
        raise Invalid("bad staff name", field="name")
    return raw


def random_pseudonym() -> str:
    return "Quiet Heron"
