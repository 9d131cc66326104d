"""The crisis file: its loader's errors and the default phrases measured on a corpus in four languages.

The corpus is deliberately not all easy: it holds ways of saying it that no phrase list catches and
jokes a phrase list cannot tell from intent. The test pins exactly which sentences are missed and
which raise a false alarm, so the figures in docs/SAFETY.md are the measured ones; change a phrase and
this test says what moved. Run ``pytest tests/domain/test_crisis.py -q -s -k figures`` to print them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from moderation.crisis import CrisisCatalog, CrisisFileError, fold, load_catalog, parse_catalog

# Sentences a person at risk might write: each must raise a signal.
POSITIVE: dict[str, list[str]] = {
    "en": [
        "I want to kill myself",
        "i want to KILL MYSELF tonight",
        "I'm going to end my life",
        "I've been thinking about ending my life",
        "I just want to die",
        "honestly i wanna die",
        "I feel suicidal again",
        "I've been having suicidal thoughts",
        "I keep thinking about suicide",
        "everyone would be better off without me",
        "I'd be better off dead",
        "I wish I was dead",
        "there's no reason to live",
        "I have nothing to live for",
        "I don't want to live anymore",
        "I dont want to live anymore",
        "I don\u2019t want to be alive",
        "I want to hurt myself",
        "I've been hurting myself again",
        "I've been self-harming",
        "the urge to selfharm is strong",
        "I started cutting myself last year",
        "I'm thinking of taking my own life",
        "I'm going to end it all",
        "I want to hang myself",
        "I   want\tto   die",
        "\uff29 want to kill myself",
        "i want to die.",
        # Misses: said without any phrase the list holds.
        "I can't do this anymore, I'm done with everything",
        "I'm going to swallow all my pills tonight",
        "I don't want to wake up tomorrow",
    ],
    "es": [
        "quiero morir",
        "Me quiero morir",
        "ya no quiero vivir",
        "no quiero seguir viviendo así",
        "quiero matarme",
        "creo que me voy a matar",
        "pienso en el suicidio todos los días",
        "tengo pensamientos suicidas",
        "quiero suicidarme",
        "quiero quitarme la vida",
        "voy a acabar con mi vida",
        "tengo ganas de morirme",
        "no vale la pena vivir",
        "todos estarían mejor sin mí",
        "todos estarian mejor sin mi",
        "quiero hacerme daño",
        "me autolesiono desde hace meses",
        # Misses.
        "no quiero despertar mañana",
        "quiero desaparecer para siempre",
    ],
    "fr": [
        "je veux mourir",
        "J'ai envie de mourir",
        "j\u2019ai envie de mourir",
        "je veux me suicider",
        "j'ai des pensées suicidaires",
        "je pense au suicide",
        "je vais me tuer",
        "je veux mettre fin à mes jours",
        "je veux mettre fin a mes jours",
        "je ne veux plus vivre",
        "je n'ai plus envie de vivre",
        "ils seraient mieux sans moi",
        "j'ai envie d'en finir",
        "j'ai envie de me faire du mal",
        "je me scarifie depuis des mois",
        "je veux en finir avec la vie",
        # Misses.
        "je veux disparaître",
        "je n'en peux plus de tout",
    ],
    "de": [
        "ich will sterben",
        "Ich möchte sterben",
        "ich mochte sterben",
        "ich bring mich um",
        "ich werde mich umbringen",
        "ich will mir das Leben nehmen",
        "ich denke an Suizid",
        "ich habe Suizidgedanken",
        "ich denke an Selbstmord",
        "ich will nicht mehr leben",
        "ich möchte nicht mehr leben",
        "alle wären ohne mich besser dran",
        "ich will mich selbst verletzen",
        "ich ritze mich wieder",
        "Selbstverletzung ist mein einziger Ausweg",
        # Misses.
        "ich will einfach nur verschwinden",
        "ich halte das alles nicht mehr aus",
    ],
}

# Ordinary sentences, much of it everyday hyperbole: none should raise a signal.
NEGATIVE: dict[str, list[str]] = {
    "en": [
        "I killed it at work today",
        "this heat is killing me",
        "dead tired after that shift",
        "I could die laughing",
        "I'm dying to see that film",
        "my phone died again",
        "that joke killed me",
        "I'd kill for a coffee right now",
        "the battery is dead",
        "we watched Suicide Squad last night",
        "September is suicide prevention month",
        "I hurt myself playing football",
        "I cut myself shaving this morning",
        "I don't want to live in London",
        "my feet are killing me",
        "the plant is dying, any tips?",
        "I'm cutting myself a slice of cake",
        "I want to dye my hair blue",
        "skill myself up in python",
        "we had a blast, it was to die for",
        "my grandmother died last year and I miss her",
        "the dead line moved to Friday",
        "I take my life one day at a time",
        "harmless fun, no one got hurt",
        # False alarm: said as a joke, and no phrase list can tell.
        "I could kill myself for forgetting her birthday",
    ],
    "es": [
        "me muero de risa",
        "este calor me mata",
        "estoy muerto de cansancio",
        "me muero de ganas de verte",
        "lo maté en el examen",
        "se me murió el móvil",
        "no quiero vivir en Madrid",
        "estoy mejor sin mi coche",
        "me corté el pelo ayer",
        "la prevención del suicidio es importante",
        "me hice daño en la rodilla jugando",
        "mi abuela murió el año pasado",
        "me mata de hambre esta dieta",
        "estoy que me muero de sueño",
        # False alarm: a joke.
        "me voy a matar estudiando para este examen",
    ],
    "fr": [
        "je suis mort de rire",
        "cette chaleur me tue",
        "je meurs de faim",
        "je suis crevé",
        "ça me tue ce truc",
        "mon téléphone est mort",
        "je veux en finir avec ce dossier",
        "la prévention du suicide compte",
        "je me suis fait mal au genou",
        "tu es mieux sans moi ce soir, je reste à la maison",
        "mourir de rire, c'est mon genre",
        "je meurs d'envie de partir en vacances",
        "il fait un temps à mourir d'ennui",
    ],
    "de": [
        "ich lach mich tot",
        "die Hitze bringt mich um",
        "ich bin todmüde",
        "ich sterbe vor Hunger",
        "mein Handy ist tot",
        "du bringst mich um mit deinen Witzen",
        "Suizidprävention ist wichtig",
        "ich habe mir beim Sport wehgetan",
        "ich will nicht in Berlin leben",
        "meine Oma ist letztes Jahr gestorben",
        "das Warten bringt mich noch um",
        "ich könnte vor Freude sterben",
        # False alarm: a news headline.
        "Selbstmordattentäter in der Hauptstadt gefasst",
    ],
}

# Exactly the sentences the default file gets wrong: the figures in docs/SAFETY.md.
KNOWN_MISSES = {
    "I can't do this anymore, I'm done with everything",
    "I'm going to swallow all my pills tonight",
    "I don't want to wake up tomorrow",
    "no quiero despertar mañana",
    "quiero desaparecer para siempre",
    "je veux disparaître",
    "je n'en peux plus de tout",
    "ich will einfach nur verschwinden",
    "ich halte das alles nicht mehr aus",
}
KNOWN_FALSE_ALARMS = {
    "I could kill myself for forgetting her birthday",
    "me voy a matar estudiando para este examen",
    "Selbstmordattentäter in der Hauptstadt gefasst",
}


@pytest.fixture(scope="module")
def catalog() -> CrisisCatalog:
    return load_catalog(None)


def _measure(catalog: CrisisCatalog) -> tuple[dict[str, tuple[int, int, int, int]], set[str], set[str]]:
    per_lang: dict[str, tuple[int, int, int, int]] = {}
    misses: set[str] = set()
    alarms: set[str] = set()
    for lang in ("en", "es", "fr", "de"):
        fn = {s for s in POSITIVE[lang] if not catalog.matches(s)}
        fp = {s for s in NEGATIVE[lang] if catalog.matches(s)}
        per_lang[lang] = (len(POSITIVE[lang]), len(fn), len(NEGATIVE[lang]), len(fp))
        misses |= fn
        alarms |= fp
    return per_lang, misses, alarms


def test_default_file_has_four_languages_and_resources(catalog: CrisisCatalog) -> None:
    assert {"en", "es", "fr", "de"} <= set(catalog.phrases)
    assert all(len(catalog.phrases[lang]) >= 10 for lang in ("en", "es", "fr", "de"))
    names = {r.name for r in catalog.resources}
    assert {"988 Suicide & Crisis Lifeline", "Samaritans", "3114 Numéro national de prévention du suicide"} <= names
    assert all(set(r) <= {"name", "phone", "text", "url", "region", "hours"} for r in catalog.resources_wire())


def test_corpus_misses_and_false_alarms_are_exactly_the_documented_ones(catalog: CrisisCatalog) -> None:
    _, misses, alarms = _measure(catalog)
    assert misses == KNOWN_MISSES
    assert alarms == KNOWN_FALSE_ALARMS


def test_the_required_everyday_sentences_never_fire(catalog: CrisisCatalog) -> None:
    for sentence in ("I killed it at work today", "this heat is killing me", "dead tired", "I could die laughing"):
        assert not catalog.matches(sentence), sentence


def test_figures_match_docs(catalog: CrisisCatalog) -> None:
    per_lang, misses, alarms = _measure(catalog)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "SAFETY.md").read_text()
    for lang, (pos, fn, neg, fp) in per_lang.items():
        row = f"| {lang} | {pos} | {fn} | {neg} | {fp} |"
        print(row)
        assert row in docs, f"docs/SAFETY.md should have the measured row {row!r}"
    total = f"| all | {sum(v[0] for v in per_lang.values())} | {len(misses)} | " + (
        f"{sum(v[2] for v in per_lang.values())} | {len(alarms)} |"
    )
    print(total)
    assert total in docs


def test_matching_folds_case_width_whitespace_accents_and_apostrophes(catalog: CrisisCatalog) -> None:
    assert fold("  I\u00a0WANT\n\tto  DIE ") == "i want to die"
    assert fold("Ｉ want") == "i want"
    assert fold("don\u2019t") == "don't"
    assert fold("Mañana ÉTÉ") == "manana ete"
    assert catalog.matches("I  WANT  TO  DIE")
    assert catalog.matches("i\u00a0want to die")


def test_matching_is_on_word_boundaries(catalog: CrisisCatalog) -> None:
    assert not catalog.matches("skillmyself")
    assert not catalog.matches("unwanted idiet")
    assert not catalog.matches("swanttodie")
    assert catalog.matches("(want to die)")
    assert catalog.matches("...want to die!!!")


def test_ignored_phrases_only_remove_themselves(catalog: CrisisCatalog) -> None:
    assert not catalog.matches("the suicide prevention line was busy")
    assert catalog.matches("the suicide prevention line was busy and I want to die")


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "crisis.toml"
    path.write_text(body, encoding="utf-8")
    return path


GOOD_RESOURCE = '\n[[resources]]\nname = "Line"\nphone = "123"\n'


def test_an_operator_file_replaces_the_default(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '[phrases]\nnl = ["ik wil dood"]\n'
        '[[resources]]\nname = "113 Zelfmoordpreventie"\nregion = "NL"\nphone = "113"\n'
        'url = "https://www.113.nl"\nhours = "24/7"\nsource = "https://www.113.nl"\n',
    )
    catalog = load_catalog(path)
    assert catalog.matches("Ik wil dood")
    assert not catalog.matches("I want to die")
    assert catalog.resources_wire() == [
        {"name": "113 Zelfmoordpreventie", "phone": "113", "url": "https://www.113.nl", "region": "NL", "hours": "24/7"}
    ]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("[phrases\n", "not valid TOML"),
        ("[phrases]\nen = []\n" + GOOD_RESOURCE, "at least one phrase"),
        ('[phrases]\nen = "die"\n' + GOOD_RESOURCE, "phrases.en must be a list of strings"),
        ('[phrases]\nen = ["  "]\n' + GOOD_RESOURCE, "empty or over-long phrase"),
        ('[phrases]\nen = ["a*b"]\n' + GOOD_RESOURCE, "'*' may only end a phrase"),
        ('[phrases]\nen = ["die"]\n', "at least one [[resources]]"),
        ('[phrases]\nen = ["die"]\n[[resources]]\nphone = "1"\n', "needs a name"),
        ('[phrases]\nen = ["die"]\n[[resources]]\nname = "X"\n', "needs at least a phone, text or url"),
        ('[phrases]\nen = ["die"]\n[[resources]]\nname = "X"\nphon = "1"\n', "unknown field(s): phon"),
        ('[phrases]\nen = ["die"]\n[[resources]]\nname = "X"\nurl = "javascript:x"\n', "url must start with"),
        ('version = 2\n[phrases]\nen = ["die"]\n' + GOOD_RESOURCE, "version must be 1"),
        ('[phrase]\nen = ["die"]\n' + GOOD_RESOURCE, "unknown top-level key(s): phrase"),
    ],
)
def test_a_bad_file_is_one_clear_error(tmp_path: Path, body: str, says: str) -> None:
    with pytest.raises(CrisisFileError) as info:
        load_catalog(_write(tmp_path, body))
    assert says in str(info.value)
    assert str(tmp_path / "crisis.toml") in str(info.value)


def test_an_unreadable_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(CrisisFileError, match=re.escape("HEARTH_CRISIS_FILE")):
        load_catalog(tmp_path / "missing.toml")


def test_not_utf8_is_refused() -> None:
    with pytest.raises(CrisisFileError, match="not UTF-8"):
        parse_catalog(b"\xff\xfe[phrases]", "test")
