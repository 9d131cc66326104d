"""Pseudonym rules: characters, lengths, staff impersonation, staff names, random names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import rooms.pseudonyms as pseudonyms
from rooms.errors import Invalid
from rooms.pseudonyms import DENYLIST, poses_as_staff, random_pseudonym, validate_pseudonym, validate_staff_name

BIDI = [
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]


def _refused(raw: object, match: str) -> Invalid:
    with pytest.raises(Invalid, match=match) as info:
        validate_pseudonym(raw)
    assert info.value.code == "invalid"
    assert info.value.details == {"field": "pseudonym"}
    return info.value


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("River Otter", "River Otter"),
        ("  Calm Lake  ", "Calm Lake"),
        ("\tQuiet Heron\n", "Quiet Heron"),
        ("e\u0301lan", "\u00e9lan"),  # NFC composes
        ("Zoe\u0308", "Zo\u00eb"),
        ("Mo", "Mo"),
        ("Badminton", "Badminton"),
        ("Staffordshire", "Staffordshire"),
        ("Moderate Mind", "Moderate Mind"),
        ("Modest Mouse", "Modest Mouse"),
        ("Systematic", "Systematic"),
        ("Admiral", "Admiral"),
        ("Hearthstone", "Hearthstone"),
        ("Bernard", "Bernard"),
        ("Samantha", "Samantha"),
        ("\u03a9mega_7", "\u03a9mega_7"),
        ("\u674e\u5c0f\u9f99", "\u674e\u5c0f\u9f99"),
        ("\u041b\u0435\u043d\u0430", "\u041b\u0435\u043d\u0430"),
        ("a.b-c_d", "a.b-c_d"),
        ("Two  Spaces", "Two  Spaces"),
        ("x" * 32, "x" * 32),
        ("   " + "y" * 32 + "   ", "y" * 32),
        ("Room 101", "Room 101"),
    ],
)
def test_valid_pseudonyms_come_back_nfc_and_trimmed(raw: str, expected: str) -> None:
    assert validate_pseudonym(raw) == expected


STAFF_LOOKALIKES = [
    "Adm1n",
    "ADMIN",
    "\uff21dmin",
    "ad min",
    "staff_2",
    "Admins",
    "moderator7",
    "Hearth",
    "SYSTEM",
    "fac1l1tator",
    "\u0455taff",
    "h3arth",
    "a.d.m.i.n",
    "the admin",
    "Mod",
    "mods",
    "Mod 2",
    "administrator",
    "Administrators",
    "Sta ff",
    "sy5tem",
    "m0d",
    "Facilitator",
    "faci-litator",
    "Hearth 42",
    "staffs",
    "moderator_99",
    "\u0391D\u039c\u0399N",  # Greek capitals
    "\u0430dmin",  # Cyrillic a
    "adm\u0131n",  # dotless i
    "\u054ftaff",  # Armenian capital tiwn
    "\uff33\uff34\uff21\uff26\uff26",  # fullwidth
    "\U0001d41a\U0001d41d\U0001d426\U0001d422\U0001d427",  # mathematical bold
    "adrnin",  # rn looks like m
    "Kind Admin",
]


@pytest.mark.parametrize("raw", STAFF_LOOKALIKES)
def test_staff_impersonation_refused(raw: str) -> None:
    assert poses_as_staff(raw)
    _refused(raw, "^Pseudonym may not pose as staff\\.$")


@pytest.mark.parametrize(
    "raw",
    [
        "Badminton",
        "Staffordshire",
        "River Otter",
        "Moderate Mind",
        "Modo",
        "Amin",
        "Heart",
        "Earth",
        "Stuff",
        "Adam",
        "Dom",
        "Maud",
        "Fern",
    ],
)
def test_ordinary_names_do_not_pose_as_staff(raw: str) -> None:
    assert not poses_as_staff(raw)


@pytest.mark.parametrize("raw", ["", "   ", "\t\n", "x", " x ", "x" * 33, "z" * 5000])
def test_length_rule(raw: str) -> None:
    _refused(raw, "^Pseudonym must be 2 to 32 characters\\.$")


@pytest.mark.parametrize("raw", [None, 5, 5.0, True, [], {}, ["River Otter"], b"River Otter"])
def test_non_strings_refused(raw: object) -> None:
    _refused(raw, "^pseudonym must be a string\\.$")


@pytest.mark.parametrize("char", BIDI)
def test_bidi_controls_refused(char: str) -> None:
    _refused(f"evil{char}name", "direction-changing")


@pytest.mark.parametrize("char", ZERO_WIDTH)
def test_zero_width_refused(char: str) -> None:
    _refused(f"we{char}ird", "zero-width")


@pytest.mark.parametrize("raw", ["soft\u00adhyphen", "bell\x07name", "null\x00name", "tab\there", "del\x7fname"])
def test_control_and_format_characters_refused(raw: str) -> None:
    _refused(raw, "control or format")


@pytest.mark.parametrize(
    "raw",
    [
        "smile \U0001f600",
        "heart \u2764",
        "a<b>",
        "semi;colon",
        "at@home",
        "dollar$",
        "it's",
        "slash/name",
        "plus+",
        "no\u00a0break",
        "a\u0301\u0301\u0301",  # a combining mark is not a letter
        "\U000f0000pua",
    ],
)
def test_character_rule(raw: str) -> None:
    _refused(raw, "^Pseudonym may contain only letters, digits, spaces, '-', '_' and '\\.'\\.$")


@pytest.mark.parametrize("name", ["fran", "a1", "ops.lead", "night-shift_2", "x" * 32, "admin", "ab"])
def test_staff_names(name: str) -> None:
    assert validate_staff_name(name) == name


@pytest.mark.parametrize(
    "name", ["F", "Fran", "fran!", "x" * 33, "", None, 7, "fr an", "fr\u00e4n", " fran", "fran\n", "\uff46ran"]
)
def test_bad_staff_names(name: object) -> None:
    with pytest.raises(Invalid) as info:
        validate_staff_name(name)
    assert info.value.details == {"field": "name"}


def test_random_pseudonyms_are_valid_and_friendly() -> None:
    denied = set(DENYLIST)
    seen = set()
    for _ in range(500):
        name = random_pseudonym()
        assert validate_pseudonym(name) == name
        assert len(name) <= 32
        words = name.split(" ")
        assert len(words) == 2
        assert all(w.isascii() and w.isalpha() and w == w.capitalize() for w in words)
        assert not denied.intersection(w.lower() for w in words)
        seen.add(name)
    assert len(seen) > 400


def test_denylist_is_lowercase_words() -> None:
    assert DENYLIST
    assert all(w.isascii() and w.isalpha() and w.islower() for w in DENYLIST)
    for word in ("dead", "killer", "crazy", "psycho", "sexy", "drunk", "suicidal", "stupid", "toxic", "venomous"):
        assert word in DENYLIST


def _feed(monkeypatch: pytest.MonkeyPatch, picks: list[list[str]]) -> None:
    queue: Iterator[list[str]] = iter(picks)
    monkeypatch.setattr(pseudonyms, "generate", lambda _n: list(next(queue)))


def test_random_pseudonym_skips_unsuitable_words(monkeypatch: pytest.MonkeyPatch) -> None:
    _feed(
        monkeypatch,
        [
            ["sexy", "otter"],
            ["calm", "rat"],
            ["three", "word", "name"],
            ["pink", "half-moon"],
            ["staff", "admin"],
            ["quiet", "heron"],
        ],
    )
    assert random_pseudonym() == "Quiet Heron"


def test_random_pseudonym_falls_back_to_a_safe_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pseudonyms, "generate", lambda _n: ["deadly", "viper"])
    name = random_pseudonym()
    assert validate_pseudonym(name) == name
    adjective, noun = name.split(" ")
    assert adjective in pseudonyms._FALLBACK_ADJECTIVES
    assert noun in pseudonyms._FALLBACK_NOUNS


# Staff look-alikes from other scripts and letter forms (Unicode confusables plus transliteration).
@pytest.mark.parametrize(
    "name",
    [
        "\u13aa\u13a0\u13b7\u13c6N",  # ᎪᎠᎷᏆN: Cherokee capitals
        "\u1d00\u1d05\u1d0d\u026a\u0274",  # ᴀᴅᴍɪɴ: small capitals
        "\u0410\u0434\u043c\u0438\u043d",  # Админ
        "\u041c\u043e\u0434\u0435\u0440\u0430\u0442\u043e\u0440",  # Модератор
        "\u0421\u0442\u0430\u0444\u0444",  # Стафф
        "\u0391\u0394\u039c\u0399\u039d",  # ΑΔΜΙΝ
        "\ua4ee\ua4d3\ua4df\ua4f2\ua4e0",  # Lisu
        "\u24d0\u24d3\u24dc\u24d8\u24dd",  # circled
        "\u1d43\u1d48\u1d50\u2071\u207f",  # superscript
        "\u0455\u0442\u0430ff",  # ѕтаff
        "\u210cearth",  # ℌearth
    ],
)
def test_staff_look_alikes_are_refused(name: str) -> None:
    assert poses_as_staff(name)
    with pytest.raises(Invalid):  # circled letters are symbols, refused before the staff check
        validate_pseudonym(name)


@pytest.mark.parametrize(
    "name", ["\u041c\u0430\u0440\u0438\u044f", "\u0410\u0434\u0430\u043c", "\u13e3\u13b3\u13a9", "Admit One", "Amin"]
)
def test_names_in_other_scripts_pass(name: str) -> None:
    assert not poses_as_staff(name)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Calm River", "calm river"),
        ("Calm River", "CALM  RIVER"),
        ("Calm River", "\u0421\u0430lm Riv\u0435r"),  # Cyrillic С, а, е
        ("Calm River", "\uff23alm River"),  # fullwidth C
        ("fran", "Fr4n"),
        ("fran", "\u0066\u0072\u0430\u006e"),  # Cyrillic а
    ],
)
def test_fold_equates_look_alikes(a: str, b: str) -> None:
    assert pseudonyms.fold(a) == pseudonyms.fold(b)


@pytest.mark.parametrize(("a", "b"), [("Calm River", "Calm Rivers"), ("Calm River", "Calm River 2"), ("fran", "fred")])
def test_fold_keeps_different_names_apart(a: str, b: str) -> None:
    assert pseudonyms.fold(a) != pseudonyms.fold(b)


def test_names_staff_account_compares_whole_folded_names() -> None:
    assert pseudonyms.names_staff_account("Fr4n", ["fran", "olu"])
    assert pseudonyms.names_staff_account("F R A N", ["f-r-a-n"]) is False
    assert not pseudonyms.names_staff_account("Fran Kindly", ["fran"])  # no splitting into words
