"""/timezone understands places as people type them: IANA names in any case, cities,
accents and spaces, a few French names and countries; else it offers the closest."""

from __future__ import annotations

import time

import pytest

from bot.core.dialogset import DialogSet
from bot.core.localtime import find_timezone, known_timezone, place_name
from bot.core.state import UserState
from bot.testing import ChatHarness

from .conftest import HarnessFactory

# The harness's clock: 2026-01-05 10:00 UTC, so 11:00 in Paris and 05:00 in New York.
MONTREAL = ("America/Montreal", "America/Toronto")  # a backward link in some tzdata builds


async def zone_of(h: ChatHarness) -> str:
    state = await h.conversations.store.load(h.person.user_id)
    assert isinstance(state, UserState)
    return state.timezone


# -- the lookup ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Paris", "Europe/Paris"),
        ("paris", "Europe/Paris"),
        ("  PARIS ", "Europe/Paris"),
        ("Europe/paris", "Europe/Paris"),
        ("europe / paris", "Europe/Paris"),
        ("new york", "America/New_York"),
        ("New-York", "America/New_York"),
        ("america/new york", "America/New_York"),
        ("Buenos Aires", "America/Argentina/Buenos_Aires"),
        ("Saint-Barthélemy", "America/St_Barthelemy"),
        ("St. John's", "America/St_Johns"),
        ("port au prince", "America/Port-au-Prince"),
        ("Réunion", "Indian/Reunion"),
        ("Lyon", "Europe/Paris"),
        ("Bruxelles", "Europe/Brussels"),
        ("Genève", "Europe/Zurich"),
        ("Londres", "Europe/London"),
        ("Québec", "America/Toronto"),
        ("Nouvelle-Calédonie", "Pacific/Noumea"),
        ("Paris, France", "Europe/Paris"),
        ("j'habite à Lyon", "Europe/Paris"),
        ("utc", "UTC"),
        ("us/eastern", "US/Eastern"),
    ],
)
def test_places_people_type_name_one_zone(typed: str, zone: str) -> None:
    assert find_timezone(typed).zone == zone


@pytest.mark.parametrize("typed", ["Montreal", "montréal", "MONTRÉAL", "America/montreal"])
def test_montreal_with_or_without_its_accent(typed: str) -> None:
    assert find_timezone(typed).zone in MONTREAL


@pytest.mark.parametrize(
    ("typed", "among"),
    [
        ("Pariss", ("Europe/Paris",)),  # a typo
        ("Europe/Pariss", ("Europe/Paris",)),
        ("Montrael", MONTREAL),
        ("new", ("America/New_York",)),  # the start of a name
        ("Canada", ("America/Vancouver",)),  # a country with several zones
        ("USA", ("America/Los_Angeles",)),
    ],
)
def test_unclear_places_are_suggested(typed: str, among: tuple[str, ...]) -> None:
    guess = find_timezone(typed)
    assert guess.zone is None and set(among) & set(guess.suggestions)
    assert 1 <= len(guess.suggestions) <= 4
    assert all(known_timezone(z) for z in guess.suggestions)


@pytest.mark.parametrize("typed", ["", "   ", "xyzzy", "oui", "merci", "bonjour", "???", "😀"])
def test_nothing_close_is_nothing(typed: str) -> None:
    assert find_timezone(typed).zone is None and find_timezone(typed).suggestions == ()


def test_place_names_and_what_a_button_may_carry() -> None:
    assert place_name("America/New_York") == "New York"
    assert place_name("America/Argentina/Buenos_Aires") == "Buenos Aires"
    assert place_name("UTC") == "UTC"
    assert known_timezone("Europe/Paris") and known_timezone("UTC")
    assert not known_timezone("europe/paris") and not known_timezone("localtime")
    assert not known_timezone("Nowhere/Land") and not known_timezone("")


def test_lookups_are_fast_once_the_index_is_built() -> None:
    find_timezone("Paris")
    typed = ["Paris", "Pariss", "new", "xyzzy", "Montrael", "Lyon", "europe/pariss"] * 30
    start = time.perf_counter()
    for text in typed:
        find_timezone(text)
    assert (time.perf_counter() - start) / len(typed) < 0.02  # well under 20 ms each


# -- through the chat ---------------------------------------------------------------------
@pytest.mark.parametrize("typed", ["Paris", "paris", "Europe/paris", "EUROPE/PARIS"])
async def test_timezone_paris_in_any_case(make_harness: HarnessFactory, typed: str) -> None:
    h = await make_harness()
    await h.send("/start")
    await h.send(f"/timezone {typed}")
    h.expect("Fuseau horaire : Europe/Paris (Paris, 11:00).", last=1)
    assert await zone_of(h) == "Europe/Paris"


async def test_new_york_in_english_with_the_time_there(make_harness: HarnessFactory) -> None:
    h = await make_harness(lang="en", name="Sam")
    await h.send("/start")
    await h.send("/timezone new york")
    h.expect("Time zone: America/New_York (New York, 05:00).", last=1)
    assert await zone_of(h) == "America/New_York"


async def test_montreal(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.send("/timezone Montreal")
    assert await zone_of(h) in MONTREAL


async def test_the_bundled_wording_names_the_place_and_its_time(
    make_harness: HarnessFactory, bundled: DialogSet
) -> None:
    h = await make_harness(dialogs=bundled, user_id=5)
    await h.send("/timezone Lyon")
    h.expect("comme à Paris (Europe/Paris), où il est en ce moment 11:00", last=1)
    en = await make_harness(dialogs=bundled, user_id=6, lang="en", name="Sam")
    await en.send("/start")
    await en.send("/timezone")
    en.expect("For now, I count hours as in London (Europe/London), where it is 10:00", last=1)
    await en.send("Canada")
    en.expect("For “Canada”, I can see several possible places. Tap yours.", last=1)
    assert en.labels[0] == "Toronto — 05:00"
    await en.send("/timezone Trifouillis")
    en.expect("I cannot find “Trifouillis” among the time zones I know.", last=1)


async def test_several_places_offer_buttons_with_the_time_there(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await h.send("/start")
    await h.send("/timezone Canada")
    h.expect("4 lieux pour « Canada »", last=1)
    assert h.labels == [
        "Toronto — 05:00",
        "Halifax — 06:00",
        "Winnipeg — 04:00",
        "Vancouver — 02:00",
    ]
    await h.press("Halifax")
    assert await zone_of(h) == "America/Halifax"
    h.expect("Fuseau horaire : America/Halifax (Halifax, 06:00).", last=1)
    assert "M'informer" in h.labels, "then back where they were, with its buttons"


async def test_timezone_alone_asks_and_the_next_text_answers(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.send("/start")
    await h.send("/timezone")
    h.expect("Votre fuseau : Europe/Paris (11:00). Écrivez votre ville.", last=1)
    await h.send("Bruxelles")
    assert await zone_of(h) == "Europe/Brussels"
    h.expect("Fuseau horaire : Europe/Brussels (Brussels, 11:00).", last=1)
    await h.send("Lyon")  # the question is closed: ordinary text again
    assert await zone_of(h) == "Europe/Brussels"


async def test_unknown_place_says_so_keeps_the_zone_and_listens(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await h.send("/start")
    await h.send("/timezone Trifouillis")
    h.expect("Je ne trouve pas « Trifouillis ». Toujours Europe/Paris.", last=1)
    assert await zone_of(h) == ""
    await h.send("Montrael")  # a typo: one suggestion
    h.expect("1 lieux pour « Montrael »", last=1)
    await h.press(1)
    assert await zone_of(h) in MONTREAL


async def test_a_sentence_or_a_dialog_answer_closes_the_question(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    await h.send("/start")
    await h.send("/timezone")
    await h.send("je ne sais pas trop quoi vous dire")
    h.expect("pas compris", last=1)
    await h.send("/timezone")
    await h.send("m'informer")  # a button's label at this step: the dialog goes on
    h.expect("Qu'est-ce qui vous retient", last=1)
    assert await zone_of(h) == ""


async def test_a_forged_or_unknown_zone_button_has_expired(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.send("/start")
    await h.press_data("!tz:Nowhere__Land")
    h.expect("expiré", last=2)
    await h.press_data("!tz:Europe__Paris")  # a button the bot could have sent: it works
    assert await zone_of(h) == "Europe/Paris"
