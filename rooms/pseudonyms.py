"""Pseudonym rules (docs/PROTOCOL.md identity and precise rules 4-6) and friendly random pseudonyms."""

from __future__ import annotations

import functools
import re
import secrets
import unicodedata

from anyascii import anyascii
from confusable_homoglyphs import confusables
from coolname import generate

from rooms.errors import Invalid

MIN_LEN, MAX_LEN = 2, 32
STAFF_WORDS = ("admin", "administrator", "mod", "moderator", "facilitator", "staff", "hearth", "system")
# Precise rule 4's extra look-alikes, applied after the Unicode confusables.
_EXTRA = str.maketrans({"0": "o", "1": "i", "l": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
_STAFF_SHAPES = frozenset(w.translate(_EXTRA) for w in STAFF_WORDS)
_SEPARATORS = re.compile(r"[\s_.\-]+")
_STAFF_SUFFIX = re.compile(r"(?:s|[0-9]+)$")
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
_PUNCTUATION = frozenset(" -_.")
_STAFF_NAME = re.compile(r"[a-z0-9_.\-]{2,32}")
_WORD = re.compile(r"[a-z]+")
# A raw value this long cannot trim down to MAX_LEN characters worth checking; refuse it before normalising.
_RAW_LIMIT = 1024

# Words a random pseudonym must never contain in a support group: death, violence, weapons, drugs, sex,
# bodies, illness, mockery, insults (also animal names used as insults) and anything gloomy or hostile.
DENYLIST: tuple[str, ...] = (
    # death, violence, the macabre
    "dead",
    "deadly",
    "death",
    "dying",
    "killer",
    "killing",
    "bloody",
    "blood",
    "bloodhound",
    "lethal",
    "suicidal",
    "gory",
    "grim",
    "morbid",
    "sinister",
    "ruthless",
    "brutal",
    "savage",
    "violent",
    "vicious",
    "cruel",
    "vengeful",
    "dangerous",
    "aggressive",
    "belligerent",
    "berserk",
    "military",
    "armored",
    "ninja",
    "demonic",
    "devil",
    "cursed",
    "heretic",
    "ghost",
    "ghoul",
    "zombie",
    "vampire",
    "skull",
    "bone",
    "corpse",
    "mutant",
    "woodoo",
    "lurking",
    "spectral",
    "dark",
    "immortal",
    "poisonous",
    "venomous",
    "toxic",
    # drugs, sex, bodies, illness
    "drunk",
    "psychedelic",
    "sexy",
    "hot",
    "naked",
    "juicy",
    "alluring",
    "provocative",
    "kickass",
    "gay",
    "married",
    "girlish",
    "macho",
    "fat",
    "chubby",
    "skinny",
    "slim",
    "thick",
    "heavy",
    "meaty",
    "bulky",
    "hulking",
    "lumpy",
    "hairy",
    "bald",
    "curvy",
    "weightless",
    "hungry",
    "voracious",
    "sick",
    "ugly",
    "illegal",
    # mockery, moods a member should not be labelled with
    "crazy",
    "insane",
    "mad",
    "psycho",
    "hysterical",
    "emotional",
    "normal",
    "stupid",
    "dumb",
    "daft",
    "daffy",
    "ludicrous",
    "evil",
    "wicked",
    "lonely",
    "angry",
    "furious",
    "grumpy",
    "annoying",
    "arrogant",
    "cocky",
    "pompous",
    "snobbish",
    "uppish",
    "uptight",
    "loutish",
    "devious",
    "manipulative",
    "greedy",
    "lazy",
    "sloppy",
    "tacky",
    "sarcastic",
    "fanatic",
    "notorious",
    "outrageous",
    "naughty",
    "stereotyped",
    "unnatural",
    "bizarre",
    "weird",
    "guilty",
    "bitter",
    "scary",
    "nasty",
    "rotten",
    "hateful",
    "screeching",
    "controversial",
    "rebel",
    # animals that double as insults, pests or menace
    "ape",
    "monkey",
    "baboon",
    "gorilla",
    "chimpanzee",
    "orangutan",
    "bonobo",
    "mongrel",
    "pig",
    "hog",
    "swine",
    "cow",
    "donkey",
    "mule",
    "rat",
    "leech",
    "slug",
    "worm",
    "earthworm",
    "maggot",
    "cockroach",
    "mosquito",
    "bug",
    "vulture",
    "hyena",
    "weasel",
    "shrew",
    "skunk",
    "sloth",
    "dodo",
    "loon",
    "cuckoo",
    "turkey",
    "whale",
    "hippo",
    "snake",
    "serpent",
    "viper",
    "cobra",
    "python",
    "mamba",
    "taipan",
    "adder",
    "asp",
    "rattlesnake",
    "copperhead",
    "sidewinder",
    "spider",
    "tarantula",
    "scorpion",
    "shark",
    "wolf",
    "hound",
    "crow",
    "raven",
    "kraken",
    "basilisk",
    "chupacabra",
    "cockatrice",
    "booby",
    "tit",
    "cock",
    "ass",
    "beaver",
    "gull",
)
_DENIED = frozenset(DENYLIST)
# Used only if coolname keeps producing unsuitable names, which should never happen in practice.
_FALLBACK_ADJECTIVES = ("Quiet", "Calm", "Gentle", "Kind", "Bright", "Steady", "Warm", "Patient")
_FALLBACK_NOUNS = ("Heron", "Otter", "Lark", "Willow", "River", "Harbour", "Meadow", "Finch")


def _rank(target: str) -> int:
    """Prefer letters, then digits (the extra map turns them into letters), then other ASCII."""
    if len(target) == 1 and target.isalpha():
        return 0 if target.islower() else 1
    if len(target) == 1 and target.isdigit():
        return 2
    return 3 if len(target) == 1 else 4


@functools.cache
def _confusables() -> dict[str, str]:
    """Each non-ASCII confusable character mapped to its best ASCII look-alike (Unicode UTS #39 data).

    The data maps a character to one prototype; pairs are joined in both directions and across
    upper and lower case, so that a small capital (ᴀ) reaches its ASCII look-alike through the
    Cherokee letters the data links it with (ᴀ - ꭺ - Ꭺ - A).
    """
    data: dict[str, list[dict[str, str]]] = confusables.confusables_data
    pairs: dict[str, set[str]] = {}

    def link(a: str, b: str) -> None:
        if a != b:
            pairs.setdefault(a, set()).add(b)
            pairs.setdefault(b, set()).add(a)

    for char, glyphs in data.items():
        for glyph in glyphs:
            link(char, glyph["c"])  # the data lists each pair under one side only
    for char in list(pairs):
        if len(char) == 1 and not char.isascii():
            for other in {char.upper(), char.lower(), char.casefold()}:
                if len(other) == 1:
                    link(char, other)
    table: dict[str, str] = {}
    for char, others in pairs.items():
        if len(char) != 1 or char.isascii():  # ASCII stays itself ("m" is listed as a look-alike of "rn")
            continue
        targets = [o for o in others if o.isascii() and o.strip() and (len(o) == 1 or o.isalnum())]
        if targets:
            table[char] = min(targets, key=lambda t: (_rank(t), t))
    # Characters that only look like another non-ASCII character inherit that one's ASCII look-alike.
    for _ in range(3):
        for char, others in pairs.items():
            if len(char) == 1 and not char.isascii() and char not in table:
                found = sorted(table[o] for o in others if o in table)
                if found:
                    table[char] = min(found, key=lambda t: (_rank(t), t))
    return table


def _map_char(char: str, table: dict[str, str]) -> str:
    if char in table:
        return table[char]
    return "".join(table.get(c, c) for c in char.casefold())


def _visible(name: str) -> str:
    return "".join(c for c in name if unicodedata.category(c) != "Cf")  # bidi and zero-width hide nothing


def _skeleton(text: str, table: dict[str, str]) -> str:
    nfkc = unicodedata.normalize("NFKC", "".join(_map_char(c, table) for c in text))
    return "".join(_map_char(c, table) for c in unicodedata.normalize("NFKC", nfkc)).casefold()


def fold(name: str) -> str:
    """Precise rule 27's one folding: NFKC, casefold and the confusable mapping of rule 4, whitespace collapsed.

    Two names that fold alike read alike; this is the key for unique names in a room and for
    telling a peer's pseudonym from a staff account's name.
    """
    table = _confusables()
    nfkc = unicodedata.normalize("NFKC", _visible(name))
    skeleton = _skeleton(nfkc, table).translate(_EXTRA).replace("rn", "m")
    return " ".join(skeleton.split())


def _skeletons(name: str) -> set[str]:
    """Readings of a name that a staff word must not hide in.

    The UTS #39 skeleton (in both orders of NFKC and mapping), and the same after transliterating
    to ASCII (anyascii, from Unicode data), which catches other scripts and letter forms that are
    read, rather than seen, as Latin ("Админ", "ᴀᴅᴍɪɴ").
    """
    table = _confusables()
    visible = _visible(name)
    out: set[str] = set()
    for text in (visible, unicodedata.normalize("NFKC", visible)):
        skeleton = _skeleton(text, table)
        out.add(skeleton)
        out.add(skeleton.replace("rn", "m"))  # UTS #39 also confuses "rn" with "m"
        out.add("".join(c if c.isascii() else anyascii(c) for c in skeleton).casefold())
        out.add(anyascii(text).casefold())
    return out


def _is_staff_token(token: str) -> bool:
    """A staff word, optionally followed by "s" or digits, judged before and after the extra look-alike map."""
    if not token:
        return False
    # Trailing digits must be cut before the map (which would turn "2" into nothing and "7" into "t").
    for candidate in (token, _STAFF_SUFFIX.sub("", token)):
        if not candidate:
            continue
        mapped = candidate.translate(_EXTRA)
        if mapped in _STAFF_SHAPES or (mapped.endswith("s") and mapped[:-1] in _STAFF_SHAPES):
            return True
        if _unreadable_letter_match(mapped):
            return True
    return False


def _unreadable_letter_match(token: str) -> bool:
    """A long staff word with one letter that has no Latin look-alike at all (Cherokee Ꮖ in "ᎪᎠᎷᏆN").

    Such a letter is read as whatever makes the word; short words ("mod") are left alone, so a
    name in another script is never refused for one stray letter.
    """
    unknown = [i for i, c in enumerate(token) if not c.isascii()]
    if len(unknown) != 1 or len(token) < 5 or not unicodedata.category(token[unknown[0]]).startswith("L"):
        return False
    at = unknown[0]
    for word in _STAFF_SHAPES:
        for candidate in (word, word + "s"):
            if len(candidate) == len(token) and candidate[:at] == token[:at] and candidate[at + 1 :] == token[at + 1 :]:
                return True
    return False


def poses_as_staff(name: str) -> bool:
    """Precise rule 4: does any token, or all tokens joined, read as a staff word?"""
    for skeleton in _skeletons(name):
        tokens = [t for t in _SEPARATORS.split(skeleton) if t]
        if any(_is_staff_token(t) for t in tokens) or _is_staff_token("".join(tokens)):
            return True
    return False


def names_staff_account(pseudonym: str, staff_names: list[str]) -> bool:
    """Precise rule 27: does the pseudonym fold to an existing staff account's name (no splitting into words)?"""
    folded = fold(pseudonym)
    return any(folded == fold(staff) for staff in staff_names)


def _invalid(message: str) -> Invalid:
    return Invalid(message, field="pseudonym")


def validate_pseudonym(raw: object) -> str:
    """Return the NFC-normalised, trimmed pseudonym, or raise Invalid naming the rule it breaks."""
    if not isinstance(raw, str):
        raise _invalid("pseudonym must be a string.")
    length_error = f"Pseudonym must be {MIN_LEN} to {MAX_LEN} characters."
    if len(raw) > _RAW_LIMIT:
        raise _invalid(length_error)
    name = unicodedata.normalize("NFC", raw).strip()
    if any(c in _BIDI for c in name):
        raise _invalid("Pseudonym may not contain direction-changing characters.")
    if any(c in _ZERO_WIDTH for c in name):
        raise _invalid("Pseudonym may not contain zero-width characters.")
    if any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        raise _invalid("Pseudonym may not contain control or format characters.")
    if not MIN_LEN <= len(name) <= MAX_LEN:
        raise _invalid(length_error)
    if not all(c in _PUNCTUATION or unicodedata.category(c)[0] in "LN" for c in name):
        raise _invalid("Pseudonym may contain only letters, digits, spaces, '-', '_' and '.'.")
    if poses_as_staff(name):
        raise _invalid("Pseudonym may not pose as staff.")
    return name


def validate_staff_name(raw: object) -> str:
    """Precise rule 6: 2 to 32 lowercase ASCII letters, digits, '_', '.' or '-'."""
    if not isinstance(raw, str) or not _STAFF_NAME.fullmatch(raw):
        raise Invalid("Staff name must be 2 to 32 lowercase letters, digits, '_', '.' or '-'.", field="name")
    return raw


def _suitable(words: list[str]) -> bool:
    return len(words) == 2 and all(_WORD.fullmatch(w) and w not in _DENIED for w in words)


def random_pseudonym() -> str:
    """A friendly "Adjective Noun" in Title Case, never with a word from the deny list."""
    for _ in range(200):
        words = generate(2)
        if not _suitable(words):
            continue
        name = " ".join(w.capitalize() for w in words)
        try:
            return validate_pseudonym(name)
        except Invalid:
            continue
    return f"{secrets.choice(_FALLBACK_ADJECTIVES)} {secrets.choice(_FALLBACK_NOUNS)}"
