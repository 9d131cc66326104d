"""Pseudonym rules (PROTOCOL.md identity and precise rules 4-6) and friendly random pseudonyms."""

from __future__ import annotations

import functools
import json
import re
import secrets
import unicodedata
from pathlib import Path

import confusable_homoglyphs
from coolname import generate

from rooms.errors import Invalid

MIN_LEN, MAX_LEN = 2, 32
STAFF_WORDS = ("admin", "administrator", "mod", "moderator", "facilitator", "staff", "hearth", "system")
# Precise rule 4's extra look-alikes, applied after the Unicode confusables.
_EXTRA = str.maketrans({"0": "o", "1": "i", "l": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_SEPARATORS = re.compile(r"[ _.\-]+")
_FORBIDDEN = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"  # bidi controls
    "\u200b\u200c\u200d\u2060\ufeff"  # zero-width characters
)
_STAFF_SHAPES = frozenset(w.translate(_EXTRA) for w in STAFF_WORDS)
# Words a random pseudonym must never contain in a support group.
DENYLIST = frozenset({
    "dead", "deadly", "death", "dying", "killer", "killing", "bloody", "blood", "toxic", "crazy", "insane", "mad",
    "psycho", "sick", "drunk", "sexy", "naked", "ugly", "fat", "stupid", "dumb", "evil", "wicked", "savage",
    "poisonous", "venomous", "suicidal", "lethal", "hungry", "lonely", "angry", "furious", "violent", "vicious",
    "cruel", "nasty", "rotten", "gory", "grim", "morbid", "sinister", "ruthless", "brutal", "hateful", "cursed",
    "weird", "lazy", "greedy", "guilty", "bitter", "scary", "demonic", "devil", "ghost", "ghoul", "zombie", "vampire",
    "skull", "bone", "corpse", "worm", "rat", "leech", "vulture", "hyena", "weasel", "slug", "maggot", "cockroach",
    "bug", "spider", "snake", "viper", "cobra", "python", "shark", "wolf", "hound", "pig", "hog", "cow", "donkey",
    "ass", "booby", "tit", "cock", "beaver", "sloth", "gull", "crow", "raven",
})


@functools.cache
def _confusables() -> dict[str, str]:
    """Each confusable character mapped to its ASCII look-alike (UTS #39 data)."""
    path = Path(confusable_homoglyphs.__file__).with_name("confusables.json")
    data: dict[str, list[dict[str, str]]] = json.loads(path.read_text(encoding="utf-8"))
    table: dict[str, str] = {}
    for char, glyphs in data.items():
        if char.isascii():  # ASCII stays itself: the data also lists "m" as a look-alike of "rn"
            continue
        for glyph in glyphs:
            target = glyph["c"]
            if target.isascii() and target != char:
                table[char] = target
                break
    return table


def _skeleton(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    table = _confusables()
    return "".join(table.get(c, c) for c in folded).casefold()


def _is_staff_token(token: str) -> bool:
    if not token:
        return False
    # "staff_2", "admins", "moderator7": a staff word followed by "s" or digits. Digits are
    # checked before the look-alike map, which would turn them into letters.
    bare = re.sub(r"(s|[0-9]+)$", "", token)
    for candidate in {token, bare}:
        if candidate and candidate.translate(_EXTRA) in _STAFF_SHAPES:
            return True
    mapped = token.translate(_EXTRA)
    return re.sub(r"s$", "", mapped) in _STAFF_SHAPES


def poses_as_staff(name: str) -> bool:
    """Precise rule 4: after NFKC, casefold and confusables, does any token (or all joined) read as staff?"""
    tokens = [t for t in _SEPARATORS.split(_skeleton(name)) if t]
    return any(_is_staff_token(t) for t in tokens) or _is_staff_token("".join(tokens))


def validate_pseudonym(raw: object) -> str:
    if not isinstance(raw, str):
        raise Invalid("pseudonym must be a string.", field="pseudonym")
    if len(raw) > 4 * MAX_LEN + 64:
        raise Invalid(f"Pseudonym must be {MIN_LEN} to {MAX_LEN} characters.", field="pseudonym")
    name = unicodedata.normalize("NFC", raw).strip()
    if any(c in _FORBIDDEN for c in name):
        raise Invalid("Pseudonym may not contain invisible or direction-changing characters.", field="pseudonym")
    if not MIN_LEN <= len(name) <= MAX_LEN:
        raise Invalid(f"Pseudonym must be {MIN_LEN} to {MAX_LEN} characters.", field="pseudonym")
    for c in name:
        if not (c in " -_." or unicodedata.category(c)[0] in "LN"):
            raise Invalid("Pseudonym may contain only letters, digits, spaces, '-', '_' and '.'.", field="pseudonym")
    if poses_as_staff(name):
        raise Invalid("Pseudonym may not pose as staff.", field="pseudonym")
    return name


def validate_staff_name(raw: object) -> str:
    if not isinstance(raw, str) or not re.fullmatch(r"[a-z0-9_.\-]{2,32}", raw):
        raise Invalid("name must be 2 to 32 lowercase letters, digits, '_', '.' or '-'.", field="name")
    return raw


def random_pseudonym() -> str:
    """A friendly "Adjective Noun", never with a word from the deny list."""
    for _ in range(100):
        words = generate(2)
        if any(w in DENYLIST for part in words for w in part.split("-")):
            continue
        name = " ".join(part.replace("-", " ").title() for part in words)
        try:
            return validate_pseudonym(name)
        except Invalid:
            continue
    return f"Kind Visitor {secrets.randbelow(900) + 100}"  # pragma: no cover - the word lists are large
