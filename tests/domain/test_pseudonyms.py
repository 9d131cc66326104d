"""Pseudonym rules: characters, lengths, staff impersonation, random names."""

from __future__ import annotations

import pytest

from rooms.errors import Invalid
from rooms.pseudonyms import DENYLIST, poses_as_staff, random_pseudonym, validate_pseudonym, validate_staff_name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("River Otter", "River Otter"), ("  Calm Lake  ", "Calm Lake"), ("e\u0301lan", "\u00e9lan"), ("Mo", "Mo"),
     ("Badminton", "Badminton"), ("Staffordshire", "Staffordshire"), ("Moderate Mind", "Moderate Mind"),
     ("Ωmega_7", "Ωmega_7"), ("李小龙", "李小龙"), ("a.b-c_d", "a.b-c_d"), ("x" * 32, "x" * 32)],
)
def test_valid(raw: str, expected: str) -> None:
    assert validate_pseudonym(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["Adm1n", "ADMIN", "\uff21dmin", "ad min", "staff_2", "Admins", "moderator7", "Hearth", "SYSTEM", "fac1l1tator",
     "\u0455taff", "h3arth", "a.d.m.i.n", "the admin", "Mod", "administrator", "Sta ff", "sy5tem", "m0d"],
)
def test_staff_impersonation_refused(raw: str) -> None:
    assert poses_as_staff(raw)
    with pytest.raises(Invalid, match="staff"):
        validate_pseudonym(raw)


@pytest.mark.parametrize(
    "raw", ["", "   ", "x", "x" * 33, "we\u200bird", "evil\u202ename", "smile \U0001F600", "tab\there", "a<b>", None, 5, [], {}]
)
def test_invalid(raw: object) -> None:
    with pytest.raises(Invalid) as info:
        validate_pseudonym(raw)
    assert info.value.details["field"] == "pseudonym"


@pytest.mark.parametrize("name", ["fran", "a1", "ops.lead", "night-shift_2", "x" * 32])
def test_staff_names(name: str) -> None:
    assert validate_staff_name(name) == name


@pytest.mark.parametrize("name", ["F", "Fran", "fran!", "x" * 33, "", None, "fr an"])
def test_bad_staff_names(name: object) -> None:
    with pytest.raises(Invalid):
        validate_staff_name(name)


def test_random_pseudonyms_are_valid_and_friendly() -> None:
    seen = set()
    for _ in range(500):
        name = random_pseudonym()
        assert validate_pseudonym(name) == name
        words = name.lower().split()
        assert len(words) >= 2 and all(w[0].isalpha() for w in words)
        assert name == name.title()
        assert not DENYLIST.intersection(words)
        seen.add(name)
    assert len(seen) > 400
