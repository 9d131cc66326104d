"""Crisis signals: the deployment's phrases and resources, loaded once, and a precompiled matcher."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources as package_files
from pathlib import Path
from typing import Any

MAX_PHRASE_LEN = 200
RESOURCE_FIELDS = ("name", "phone", "text", "url", "region", "hours")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_WHITESPACE = re.compile(r"\s+")


class CrisisFileError(Exception):
    """The crisis file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class Resource:
    """Somewhere a person can turn to: a helpline, a directory, emergency services."""

    name: str
    phone: str | None = None
    text: str | None = None
    url: str | None = None
    region: str | None = None
    hours: str | None = None

    def wire(self) -> dict[str, str]:
        return {f: v for f in RESOURCE_FIELDS if (v := getattr(self, f)) is not None}


def fold(text: str) -> str:
    """NFKC, casefold, typographic apostrophes made plain, accents removed, whitespace folded."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    decomposed = unicodedata.normalize("NFD", folded)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", bare)).strip()


def _phrase_pattern(phrase: str) -> str:
    """One phrase as a regex: words joined by space, hyphen or nothing; ' optional; a final * any ending."""
    prefix = phrase.endswith("*")
    words = fold(phrase.rstrip("*")).split(" ")
    parts = [re.escape(w).replace("'", "'?") for w in words]
    body = r"[ \-]?".join(parts)
    return body + (r"\w*" if prefix else "")


def _compile(phrases: list[str]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    # Longest first, so an alternation prefers the fuller phrase; \b on both sides: whole words only.
    alternatives = sorted({_phrase_pattern(p) for p in phrases}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


class CrisisCatalog:
    """Phrases (by language) and resources, with the matcher compiled once."""

    __slots__ = ("_ignore", "_match", "ignore", "phrases", "resources", "source")

    def __init__(
        self,
        phrases: dict[str, tuple[str, ...]],
        ignore: dict[str, tuple[str, ...]],
        resources: tuple[Resource, ...],
        source: str,
    ) -> None:
        self.phrases = phrases
        self.ignore = ignore
        self.resources = resources
        self.source = source
        self._match = _compile([p for ps in phrases.values() for p in ps])
        self._ignore = _compile([p for ps in ignore.values() for p in ps])

    def matches(self, text: str) -> bool:
        """True when the text contains a crisis phrase (which phrase is never returned or logged)."""
        if self._match is None:
            return False
        folded = fold(text)
        if self._ignore is not None:
            folded = self._ignore.sub(" ", folded)
        return self._match.search(folded) is not None

    def resources_wire(self) -> list[dict[str, str]]:
        return [r.wire() for r in self.resources]


def _strings(value: object, where: str, source: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise CrisisFileError(f"{source}: {where} must be a list of strings")
    out: list[str] = []
    for p in value:
        phrase = p.strip()
        if not phrase or phrase == "*" or len(phrase) > MAX_PHRASE_LEN:
            raise CrisisFileError(f"{source}: {where} has an empty or over-long phrase: {p!r}")
        if "*" in phrase[:-1]:
            raise CrisisFileError(f"{source}: {where}: '*' may only end a phrase: {p!r}")
        out.append(phrase)
    return tuple(out)


def _by_language(data: dict[str, Any], table: str, source: str, *, required: bool) -> dict[str, tuple[str, ...]]:
    raw = data.get(table, {})
    if not isinstance(raw, dict):
        raise CrisisFileError(f'{source}: [{table}] must be a table of languages, e.g. en = ["..."]')
    out = {str(lang): _strings(v, f"{table}.{lang}", source) for lang, v in raw.items()}
    if required and not any(out.values()):
        raise CrisisFileError(f"{source}: [phrases] must list at least one phrase")
    return out


def _resource(raw: object, index: int, source: str) -> Resource:
    where = f"resources[{index}]"
    if not isinstance(raw, dict):
        raise CrisisFileError(f"{source}: {where} must be a table")
    unknown = set(raw) - {*RESOURCE_FIELDS, "source"}
    if unknown:
        raise CrisisFileError(f"{source}: {where} has unknown field(s): {', '.join(sorted(unknown))}")
    for name, value in raw.items():
        if not isinstance(value, str) or not value.strip():
            raise CrisisFileError(f"{source}: {where}.{name} must be a non-empty string")
    if "name" not in raw:
        raise CrisisFileError(f"{source}: {where} needs a name")
    if not any(f in raw for f in ("phone", "text", "url")):
        raise CrisisFileError(f"{source}: {where} ({raw['name']}) needs at least a phone, text or url")
    url = raw.get("url")
    if url is not None and not url.startswith(("https://", "http://", "tel:")):
        raise CrisisFileError(f"{source}: {where}.url must start with https://, http:// or tel:, got {url!r}")
    return Resource(**{f: raw[f].strip() for f in RESOURCE_FIELDS if f in raw})


def parse_catalog(raw: bytes, source: str) -> CrisisCatalog:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise CrisisFileError(f"{source}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise CrisisFileError(f"{source}: not valid TOML: {exc}") from None
    if data.get("version", 1) != 1:
        raise CrisisFileError(f"{source}: version must be 1, got {data.get('version')!r}")
    unknown = set(data) - {"version", "phrases", "ignore", "resources"}
    if unknown:
        raise CrisisFileError(f"{source}: unknown top-level key(s): {', '.join(sorted(unknown))}")
    phrases = _by_language(data, "phrases", source, required=True)
    ignore = _by_language(data, "ignore", source, required=False)
    raw_resources = data.get("resources")
    if not isinstance(raw_resources, list) or not raw_resources:
        raise CrisisFileError(f"{source}: at least one [[resources]] entry is required")
    resources = tuple(_resource(r, i, source) for i, r in enumerate(raw_resources))
    return CrisisCatalog(phrases, ignore, resources, source)


def load_catalog(path: Path | None) -> CrisisCatalog:
    """The operator's file, or the default shipped with Hearth when ``path`` is None."""
    if path is None:
        raw = package_files.files("moderation").joinpath("crisis-default.toml").read_bytes()
        return parse_catalog(raw, "the default crisis file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CrisisFileError(f"HEARTH_CRISIS_FILE {str(path)!r} cannot be read: {exc.strerror}") from None
    return parse_catalog(raw, f"HEARTH_CRISIS_FILE {str(path)!r}")
