"""Understanding typed text (issue 13): normalisation, intents, button labels, the report.

The intents and phrases below are a small development set written for these tests; the
real ones (dialogs/intents.yaml, dialogs/tests/phrases.yaml) are checked by the checker.
"""

from __future__ import annotations

import random

import pytest

from bot.errors import VieError
from bot.understanding import (
    NEG,
    NONE,
    Guess,
    Intent,
    Matcher,
    Phrase,
    UnderstandingError,
    evaluate,
    normalize,
    phrases_from,
)
from bot.understanding.matcher import MAX_TOKENS, THRESHOLD
from bot.understanding.typos import Speller, distance

LANGS = ("fr", "en")

EXAMPLES: dict[str, dict[str, list[str]]] = {
    "yes": {
        "fr": ["oui", "d'accord", "ok ça marche", "je veux bien", "j'ai envie d'essayer"],
        "en": ["yes", "sure", "ok let's do it", "I'd like to try", "of course"],
    },
    "no": {
        "fr": ["non", "non merci", "pas vraiment", "surtout pas"],
        "en": ["no", "no thanks", "not really", "certainly not"],
    },
    "dont_know": {
        "fr": ["je sais pas", "aucune idée", "je n'en sais rien", "bonne question"],
        "en": ["I don't know", "no idea", "no clue", "good question"],
    },
    "later": {
        "fr": ["plus tard", "pas maintenant", "une autre fois", "on verra demain"],
        "en": ["later", "not now", "another time", "maybe tomorrow"],
    },
    "stop": {
        "fr": ["stop", "je veux arrêter", "laissez-moi tranquille", "arrêtez de m'écrire"],
        "en": ["stop", "I want to stop", "leave me alone", "stop messaging me"],
    },
    "help": {
        "fr": ["aide", "aidez-moi", "je suis perdu", "je comprends rien"],
        "en": ["help", "help me", "I'm lost", "I don't understand anything"],
    },
    "no_time": {
        "fr": ["j'ai pas le temps", "trop occupé en ce moment", "je suis débordée"],
        "en": ["I don't have time", "too busy right now", "I'm swamped"],
    },
    "too_old": {
        "fr": ["c'est pour les jeunes", "je suis trop vieux pour ça", "à mon âge"],
        "en": ["that's for young people", "I'm too old for this", "at my age"],
    },
    "privacy": {
        "fr": ["mes données personnelles", "on va m'espionner", "qui voit ce que je publie"],
        "en": ["my personal data", "they will spy on me", "who can see what I post"],
    },
    "not_interested": {
        "fr": ["bof", "pas envie", "ça ne m'intéresse pas", "ça me dit rien"],
        "en": ["meh", "I don't feel like it", "not interested", "doesn't appeal to me"],
    },
    "done": {
        "fr": ["c'est fait", "voilà c'est installé", "ça marche maintenant", "j'ai réussi"],
        "en": ["done", "it's installed", "it works now", "I managed it"],
    },
    "short_link": {
        "fr": [
            "c'est quoi un lien court",
            "un lien raccourci ça sert à quoi",
            "raccourcir un lien",
        ],
        "en": ["what is a short link", "what's the use of a shortened link", "shorten a link"],
    },
}
INTENTS = tuple(Intent(name, {k: tuple(v) for k, v in ex.items()}) for name, ex in EXAMPLES.items())

# typed as the people we coach type: no accents, SMS, typos, capitals; none are examples
PHRASES = [
    ("fr", "ouais d'accord", "yes"),
    ("fr", "OK ca marche", "yes"),
    ("fr", "nan merci", "no"),
    ("fr", "jsp", "dont_know"),
    ("fr", "chais pas", "dont_know"),
    ("fr", "aucune idee", "dont_know"),
    ("fr", "pas mtn", "later"),
    ("fr", "une autre fois peut etre", "later"),
    ("fr", "STOP", "stop"),
    ("fr", "laissez moi tranquile", "stop"),
    ("fr", "chuis perdue", "help"),
    ("fr", "jai pas le tps", "no_time"),
    ("fr", "je n'ai vraiment pas le temps", "no_time"),
    ("fr", "trop ocupée", "no_time"),
    ("fr", "chuis trop vieille pour ces trucs", "too_old"),
    ("fr", "c pour les jeunes", "too_old"),
    ("fr", "et mes donnees personnelles ?", "privacy"),
    ("fr", "pas envie du tout", "not_interested"),
    ("fr", "cest fait", "done"),
    ("fr", "c koi un lien court", "short_link"),
    ("fr", "qwerty azerty", NONE),
    ("fr", "la tarte est au four", NONE),
    ("en", "yeah sure", "yes"),
    ("en", "nope", "no"),
    ("en", "dunno", "dont_know"),
    ("en", "idk", "dont_know"),
    ("en", "not now thanks", "later"),
    ("en", "leave me alone!", "stop"),
    ("en", "im lost", "help"),
    ("en", "dont have time", "no_time"),
    ("en", "way too busy", "no_time"),
    ("en", "Im too old for all that", "too_old"),
    ("en", "who can see my posts", "privacy"),
    ("en", "not interested thanks", "not_interested"),
    ("en", "its installed", "done"),
    ("en", "whats a short link", "short_link"),
    ("en", "asdf jkl", NONE),
]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(INTENTS, LANGS)


# ---- normalize -----------------------------------------------------------------------


def test_normalize_folds_case_accents_and_apostrophes() -> None:
    assert normalize("Déjà INSCRITE", "fr") == normalize("deja inscrite", "fr")
    assert normalize("l'écran", "fr") == normalize("l ecran", "fr") == ("le", "ecran")


def test_normalize_expands_sms_spellings() -> None:
    assert normalize("jsp", "fr") == normalize("je sais pas", "fr")
    assert normalize("chuis perdu", "fr") == normalize("je suis perdu", "fr")
    assert normalize("c koi", "fr") == normalize("c'est quoi", "fr")
    assert normalize("pk", "fr") == normalize("pourquoi", "fr")
    assert normalize("jveux", "fr") == normalize("je veux", "fr")
    assert normalize("idk", "en") == normalize("I don't know", "en")
    assert normalize("dont", "en") == normalize("don't", "en") == normalize("do not", "en")


def test_normalize_brings_word_forms_together() -> None:
    forms = ["installé", "installer", "installée", "installee", "installe"]
    assert len({normalize(f, "fr") for f in forms}) == 1
    assert normalize("j'installe", "fr")[-1] == normalize("installer", "fr")[0]
    assert normalize("installed", "en") == normalize("installing", "en")


def test_negation_is_marked() -> None:
    assert normalize("pas envie", "fr") != normalize("envie", "fr")
    assert not set(normalize("pas envie", "fr")) & set(normalize("envie", "fr"))
    assert set(normalize("je n'ai pas le temps", "fr")) == set(normalize("j'ai pas le temps", "fr"))
    assert NEG in normalize("jsp", "fr")
    assert NEG in normalize("je n'en veux plus", "fr")
    assert NEG in normalize("je sais plus", "fr")  # "plus" after a verb, without "ne"
    assert NEG not in normalize("plus tard", "fr") + normalize("un peu plus", "fr")
    assert NEG not in normalize("c'est gratuit ou pas ?", "fr")  # a question, not a denial
    assert normalize("no time", "en") == ("no", NEG + "time")


def test_normalize_maps_emoji_bounds_long_text_and_knows_other_languages() -> None:
    assert normalize("👍", "fr") == ("ok",)
    assert len(normalize("pas le temps " * 2000, "fr")) < 200
    assert normalize("Hallo Welt", "de") == ("hallo", "welt")


# ---- typos ---------------------------------------------------------------------------


def test_speller_corrects_one_typo_and_leaves_short_words() -> None:
    assert distance("temps", "tmeps", 2) == 1  # a swap counts one
    assert distance("abc", "xyz", 1) == 2  # bound + 1: more than allowed
    speller = Speller.of(["telephon", "temps", "march", "occup"], {"telephon": 3})
    assert speller.correct("telephnon") == "telephon"
    assert speller.correct("tmeps") == "temps"  # a swap, even in a short word
    assert speller.correct("ocup") == "occup"  # a doubled letter, even in a short word
    assert speller.correct("match") is None  # a short word one letter off is another word
    assert speller.correct("xyz") is None


# ---- matching ------------------------------------------------------------------------


def test_development_phrases_are_understood(matcher: Matcher) -> None:
    report = evaluate(matcher, [Phrase(text, lang, intent) for lang, text, intent in PHRASES])
    assert report.failing(0.9) == (), report.lines()


@pytest.mark.parametrize(
    ("text", "lang", "intent"),
    [
        ("pas envie", "fr", "not_interested"),
        ("j'ai bien envie d'essayer", "fr", "yes"),
        ("jai pas envie dessayer", "fr", "not_interested"),
        ("je sais", "fr", None),
        ("I don't feel like it at all", "en", "not_interested"),
    ],
)
def test_negation_changes_the_intent(matcher: Matcher, text: str, lang: str, intent: str) -> None:
    guess = matcher.best(text, lang)
    assert (guess.intent if guess else None) == intent


@pytest.mark.parametrize(
    ("text", "lang", "intent"),
    [
        ("jai pas le tmeps", "fr", "no_time"),
        ("trop ocupé", "fr", "no_time"),
        ("je suis débordé", "fr", "no_time"),
        ("laisez moi tranquille", "fr", "stop"),
        ("I dont have tiem", "en", "no_time"),
        ("leave me alnoe", "en", "stop"),
    ],
)
def test_typos_are_tolerated(matcher: Matcher, text: str, lang: str, intent: str) -> None:
    guess = matcher.best(text, lang)
    assert guess is not None and guess.intent == intent


def test_among_restricts_the_intents(matcher: Matcher) -> None:
    assert matcher.best("oui", "fr", among={"no_time", "stop"}) is None
    ranked = matcher.rank("jsp", "fr", among=["dont_know", "later", "not_an_intent"])
    assert ranked and {g.intent for g in ranked} <= {"dont_know", "later"}
    assert ranked[0].intent == "dont_know"
    assert matcher.rank("jsp", "fr", among=()) == ()


def test_rank_is_best_first_bounded_and_scored_0_to_1(matcher: Matcher) -> None:
    ranked = matcher.rank("pas maintenant j'ai pas le temps", "fr", limit=2)
    assert len(ranked) == 2
    assert ranked[0].score >= ranked[1].score
    assert all(0 < g.score <= 1 for g in ranked)
    assert {g.intent for g in ranked} == {"later", "no_time"}


def test_best_needs_confidence(matcher: Matcher) -> None:
    assert matcher.best("", "fr") is None
    assert matcher.best("!!!", "en") is None
    assert matcher.best("le chat dort sur le canapé", "fr") is None
    guess = matcher.best("je sais pas", "fr")
    assert isinstance(guess, Guess) and guess.score >= THRESHOLD


def test_a_wrong_language_setting_still_understands(matcher: Matcher) -> None:
    guess = matcher.best("I don't have time", "fr")
    assert guess is not None and guess.intent == "no_time"
    # the person's language comes first when both understand it
    french = matcher.best("stop", "fr")
    assert french is not None and french.intent == "stop"


def test_long_text_is_bounded(matcher: Matcher) -> None:
    long = "je passe mes journées au jardin, " * 200 + "et je n'ai pas le temps"
    assert len(long) > 4096
    assert len(matcher.tokens(long, "fr")) <= MAX_TOKENS
    matcher.rank(long, "fr")  # completes: the text is truncated, the work bounded
    assert matcher.best("j'ai pas le temps " + "x" * 4096, "fr") is not None


def test_results_do_not_depend_on_build_or_order() -> None:
    shuffled = list(INTENTS)
    random.Random(4).shuffle(shuffled)
    first, second = Matcher(INTENTS, LANGS), Matcher(shuffled, LANGS)
    for lang, text, _ in PHRASES:
        assert first.rank(text, lang) == Matcher(INTENTS, LANGS).rank(text, lang)
        assert {g.intent: g.score for g in first.rank(text, lang, limit=20)} == {
            g.intent: g.score for g in second.rank(text, lang, limit=20)
        }


def test_bad_intents_and_languages_are_refused() -> None:
    twice = (Intent("yes", {"fr": ("oui",)}), Intent("yes", {"fr": ("ouais",)}))
    with pytest.raises(UnderstandingError, match="yes"):
        Matcher(twice, LANGS)
    with pytest.raises(VieError, match="'de'"):
        Matcher(INTENTS, LANGS).best("hallo", "de")


def test_an_intent_without_examples_in_a_language_is_never_guessed() -> None:
    matcher = Matcher((Intent("hello", {"fr": ("bonjour",)}), *INTENTS), LANGS)
    assert matcher.best("bonjour", "en") is not None  # found through French
    assert all(g.intent != "hello" for g in matcher.rank("hello", "en"))


# ---- labels --------------------------------------------------------------------------

STEP = ["✅ C'est fait", "Je bloque", "Je le ferai plus tard", "Choisir un autre réseau"]
DEVICES = ["iPhone ou iPad", "Téléphone ou tablette Android", "Un ordinateur", "Je ne sais pas"]
STAGES = ["V — Partager, inviter", "I — Mes questions", "E — Installer, apprendre", "Plus tard"]


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("C'est fait", STEP, 0),
        ("cest fait", STEP, 0),
        ("c fait !", STEP, 0),
        ("cest fiat", STEP, 0),
        ("cestfait", STEP, 0),
        ("je bloque", STEP, 1),
        ("plus tard", STEP, 2),
        ("autre reseau", STEP, 3),
        ("telephone ou tablette android", DEVICES, 1),
        ("telephone ou tablete androide", DEVICES, 1),
        ("tablette android", DEVICES, 1),
        ("ordinateur", DEVICES, 2),
        ("jsp", DEVICES, 3),
        ("E", STAGES, 2),  # a label's key, typed alone
        ("e.", STAGES, 2),
        ("i", STAGES, 1),
        ("V ", STAGES, 0),
    ],
)
def test_a_typed_label_is_that_button(
    matcher: Matcher, text: str, labels: list[str], expected: int
) -> None:
    assert matcher.label(text, labels, "fr") == expected


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("pas fait", STEP),  # negation: not "C'est fait"
        ("c'est pas fait", STEP),
        ("je sais", DEVICES),  # not "Je ne sais pas"
        ("je", STEP),  # in two labels: which one?
        ("I don't know", STAGES),  # a key is the whole text, never a word in a sentence
        ("a", ["A — Lire", "A — Écrire"]),  # a key two labels share is no key
        ("ou", DEVICES),
        ("bonjour", STEP),
        ("", STEP),
        ("c'est fait " * 30, STEP),  # a message, not a button
        ("oui", []),
    ],
)
def test_no_label_when_unclear(matcher: Matcher, text: str, labels: list[str]) -> None:
    assert matcher.label(text, labels, "fr") is None


def test_english_labels(matcher: Matcher) -> None:
    labels = ["Done 👍", "I'm stuck", "I'll do it later"]
    assert matcher.label("done", labels, "en") == 0
    assert matcher.label("im stuck", labels, "en") == 1
    assert matcher.label("ill do it later", labels, "en") == 2
    assert matcher.label("not done", labels, "en") is None


# ---- the report ----------------------------------------------------------------------


def test_report_counts_none_and_confusions(matcher: Matcher) -> None:
    phrases = [
        Phrase("jsp", "fr", "dont_know"),
        Phrase("qwerty azerty", "fr", NONE),
        Phrase("oui", "fr", "no"),  # wrong on purpose
        Phrase("nope", "en", "no"),
    ]
    report = evaluate(matcher, phrases)
    assert report.languages["fr"].correct == 2 and report.languages["fr"].total == 3
    assert report.languages["en"].accuracy == 1.0
    assert report.intents[("fr", NONE)].correct == 1
    assert report.failing(0.9) == ("fr",)
    (confusion,) = report.confusions
    assert (confusion.lang, confusion.expected, confusion.got, confusion.count) == (
        "fr",
        "no",
        "yes",
        1,
    )
    lines = report.lines()
    assert lines[0].startswith("fr:") and any("no -> yes" in line for line in lines)


def test_phrases_are_read_from_parsed_yaml() -> None:
    phrases = phrases_from({"phrases": {"fr": [{"text": "jsp", "intent": "dont_know"}]}})
    assert phrases == (Phrase("jsp", "fr", "dont_know"),)
    # unquoted yes/no are booleans in YAML 1.1: say so rather than invent an intent "True"
    with pytest.raises(UnderstandingError, match="quote"):
        phrases_from({"phrases": {"fr": [{"text": "oui", "intent": True}]}})
    with pytest.raises(UnderstandingError, match="text"):
        phrases_from({"phrases": {"fr": [{"intent": "no"}]}})


def test_report_names_intents_that_do_not_exist(matcher: Matcher) -> None:
    report = evaluate(matcher, [Phrase("jsp", "fr", "dont_knwo")])
    assert report.unknown == ("dont_knwo",)
    assert any("dont_knwo" in line for line in report.lines())


def test_an_example_typed_word_for_word_means_its_intent() -> None:
    """'non merci' is an example of no: it is a no, though 'merci' alone is a thanks."""
    intents = [
        Intent("no", {"fr": ("non", "non merci", "pas vraiment"), "en": ("no", "nope", "nah")}),
        Intent("thanks", {"fr": ("merci", "merci bien", "merci beaucoup", "super merci"),
                          "en": ("thanks", "thank you", "cheers")}),
    ]  # fmt: skip
    matcher = Matcher(intents, LANGS)
    for typed in ("non merci", "Non, merci !", "NON MERCI"):
        guess = matcher.best(typed, "fr")
        assert guess is not None and guess.intent == "no", typed
    guess = matcher.best("merci", "fr")
    assert guess is not None and guess.intent == "thanks"
    # where only `thanks` is wanted, the exact example of `no` does not force a score of 1
    restricted = matcher.best("non merci", "fr", among=["thanks"])
    assert restricted is None or (restricted.intent == "thanks" and restricted.score < 1.0)
