"""The personal start (one question chooses the first network), the "before we start"
check, the short way, and the weekly programme, through the harness on the bundled
dialogs: typed answers, weekly check-ins on a fake clock, praise only for what was done."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.dialogset import DialogSet
from bot.core.render import to_plain
from bot.testing import ChatHarness

from .conftest import HarnessFactory

DAY = timedelta(days=1)
WEEK = 7 * DAY


def plain(text: str) -> str:
    """The text as a person reads it, French non-breaking spaces as plain ones."""
    return to_plain(text).replace("\u202f", " ").replace("\xa0", " ")


async def variables(h: ChatHarness) -> dict[str, object]:
    state = await h.conversations.store.load(1)
    assert state is not None
    return dict(state.vars)


async def at_interest(
    make_harness: HarnessFactory, bundled: DialogSet, lang: str = "fr"
) -> ChatHarness:
    h = await make_harness(dialogs=bundled, lang=lang, name="Monique")
    await h.send("/start")
    await h.press("On commence" if lang == "fr" else "Let's begin")
    assert "qu'est-ce qui compte le plus" in plain(h.last.text) or "matters most" in h.last.text
    return h


@pytest.mark.parametrize(
    ("typed", "interest", "suggested"),
    [
        ("ma famille surtout, les petits enfants", "family", "Facebook, pas à pas"),
        ("je cherche du travail", "work", "LinkedIn, pas à pas"),
        ("le jardinage", "hobby", "Instagram, pas à pas"),
        ("les infos de ma commune", "town", "Plutôt Mastodon ou X"),
    ],
)
async def test_one_typed_answer_chooses_the_first_network(
    make_harness: HarnessFactory, bundled: DialogSet, typed: str, interest: str, suggested: str
) -> None:
    h = await at_interest(make_harness, bundled)
    await h.send(typed)
    assert (await variables(h))["interest"] == interest
    assert suggested in [b.label for b in h.keyboard]


async def test_the_suggestion_leads_through_the_check_to_that_network(
    make_harness: HarnessFactory, bundled: DialogSet
) -> None:
    h = await at_interest(make_harness, bundled)
    await h.press("Le travail, chercher un emploi")
    h.expect("LinkedIn", last=1)
    await h.press("LinkedIn, pas à pas")
    text = plain(h.last.text)
    assert "Avant de commencer" in text and "compte Apple" in text and "Wi-Fi" in text
    await h.send("tout est pret")
    assert (await variables(h))["ready"] is True
    await h.send("un samsung")
    # the network chosen at the start: straight to its installation, not the list again
    text = plain(h.last.text)
    assert "un appareil Android" in text and "Nous continuons avec LinkedIn" in text
    assert "Choisir un autre réseau" in h.labels
    chosen = await variables(h)
    assert chosen["network"] == "linkedin" and chosen["network_wish"] == ""
    # the check is asked once: the menu's E goes straight to the device afterwards
    await h.send("/start")
    await h.send("menu")
    await h.press("E — Installer, apprendre")
    assert "Qu'utilisez-vous aujourd'hui" in plain(h.last.text)
    # no network wished for any more: the list, with the one that fits work suggested
    await h.press("iPhone ou iPad")
    assert "Je vous suggère LinkedIn" in plain(h.last.text)
    assert "LinkedIn (conseillé)" in h.labels and "Facebook" in h.labels


async def test_the_list_of_networks_suggests_the_one_for_the_family(
    make_harness: HarnessFactory, bundled: DialogSet
) -> None:
    h = await at_interest(make_harness, bundled)
    await h.press("Ma famille, mes petits-enfants")
    await h.press("Voir les trois étapes")
    await h.press("E — Installer, apprendre")
    await h.press("Tout est prêt")
    await h.press("iPhone ou iPad")
    text = plain(h.last.text)
    assert "la famille, je vous suggère Facebook" in text
    assert h.labels[:2] == ["Facebook (conseillé)", "LinkedIn"]
    await h.send("oui")  # a plain yes takes the suggestion
    assert (await variables(h))["network"] == "facebook"
    assert "Installer Facebook" in plain(h.last.text)


async def test_something_missing_and_the_short_way(
    make_harness: HarnessFactory, bundled: DialogSet
) -> None:
    h = await at_interest(make_harness, bundled)
    await h.press("Ma famille, mes petits-enfants")
    await h.press("Facebook, pas à pas")
    await h.send("mon telephone est a plat")
    assert "iforgot.apple.com" in plain(h.last.text), "the missing things, with what to do"
    await h.press("Revenir au menu")
    await h.press("E — Installer, apprendre")  # not ready yet: the check again
    await h.send("je suis a l'aise avec la technique, allons droit au but")
    assert "rarement la technique" in plain(h.last.text)
    await h.press("Installer un réseau")
    assert (await variables(h))["quick"] is True


async def test_the_menu_offers_the_programme_only_after_a_first_step(
    make_harness: HarnessFactory, bundled: DialogSet
) -> None:
    h = await at_interest(make_harness, bundled)
    await h.press("Je ne sais pas encore")
    assert "Une petite idée par semaine" not in [b.label for b in h.keyboard]
    await h.send("j'ai pas le temps pour ces trucs")  # an objection heard: a first step of I
    assert (await h.conversations.store.load(1)).flow == "informer"  # type: ignore[union-attr]
    await h.send("menu")
    assert "Une petite idée par semaine" in [b.label for b in h.keyboard]


async def in_the_programme(make_harness: HarnessFactory, bundled: DialogSet) -> ChatHarness:
    h = await at_interest(make_harness, bundled)
    await h.press("Ma famille, mes petits-enfants")
    await h.send("j'ai pas le temps pour ces trucs")  # a first step (of I)
    await h.send("menu")
    await h.press("Une petite idée par semaine")
    text = plain(h.last.text)
    assert "Pas plus d'un par semaine" in text and "/stop" in text
    await h.send("oui")
    text = plain(h.last.text)
    assert "Semaine 1 : lire" in text and "ce que vos proches partagent" in text
    return h


async def test_weekly_check_ins_praise_only_what_was_done(
    make_harness: HarnessFactory, bundled: DialogSet
) -> None:
    h = await in_the_programme(make_harness, bundled)
    assert await h.advance(WEEK - timedelta(minutes=1)) == []
    (check_in,) = await h.advance(timedelta(minutes=1))
    assert "Avez-vous eu l'occasion de lire un peu" in plain(check_in.text)
    assert [b.label for b in check_in.buttons][-1] == "Plus de rappels", "/stop, one tap"
    await h.send("j'ai lu quelques photos de ma fille")
    assert "Bravo" in h.last.text and (await variables(h))["prog_read"] is True
    await h.press("Voir la semaine 2")
    (check_in,) = await h.advance(WEEK)
    assert "réagir" in plain(check_in.text)
    await h.send("pas encore")
    assert "Bravo" not in h.last.text and "rien n'est perdu" in plain(h.last.text)
    await h.press("Passer à la semaine 3")
    await h.press("J'ai publié")
    assert "deux semaines d'affilée" not in plain(h.last.text), "week 2 was not done"
    await h.press("Voir la semaine 4")
    await h.press("Je suis un sujet")
    text = plain(h.last.text)
    assert "Le programme est terminé" in text
    assert "lire" in text and "publier votre premier message" in text
    assert "réagir" not in text, "only what was really done"
    assert (await variables(h))["programme"] == "done"
    assert await h.advance(8 * WEEK) == [], "no reminder after the end"


async def test_an_ignored_check_in_backs_off_then_stops(
    make_harness: HarnessFactory, bundled: DialogSet
) -> None:
    h = await in_the_programme(make_harness, bundled)
    assert len(await h.advance(WEEK)) == 1
    assert await h.advance(2 * WEEK - timedelta(minutes=1)) == [], "ignored once: doubled"
    (last,) = await h.advance(timedelta(minutes=1))
    assert "je n'insiste plus" in plain(last.text)
    assert await h.advance(12 * WEEK) == []


async def test_stopping_the_programme_and_stop(
    make_harness: HarnessFactory, bundled: DialogSet
) -> None:
    h = await in_the_programme(make_harness, bundled)
    await h.press("Arrêter le programme")
    assert "/stop" in h.last.text and (await variables(h))["programme"] == "off"
    assert await h.advance(8 * WEEK) == []
    await h.send("menu")
    await h.press("Reprendre mon programme")
    assert "Semaine 1 : lire" in plain(h.last.text)
    await h.send("/stop")
    assert (await variables(h))["reminders_off"] is True
    assert await h.advance(4 * WEEK) == [], "no check-in after /stop"
    await h.send("/reminders")
    assert (await variables(h))["reminders_off"] is False


async def test_the_programme_says_when_reminders_are_off(
    make_harness: HarnessFactory, bundled: DialogSet
) -> None:
    h = await at_interest(make_harness, bundled)
    await h.press("Ma famille, mes petits-enfants")
    await h.send("j'ai pas le temps pour ces trucs")
    await h.send("/stop")
    await h.send("menu")
    await h.press("Une petite idée par semaine")
    assert "tapez /reminders" in plain(h.last.text), "no promise of a message that won't come"


async def test_the_programme_in_english(make_harness: HarnessFactory, bundled: DialogSet) -> None:
    h = await at_interest(make_harness, bundled, "en")
    await h.send("I'm looking for a job")
    await h.send("I haven't got time for all that")
    await h.send("menu")
    await h.press("One small idea a week")
    await h.send("yes")
    assert "companies in your field" in h.last.text
    (check_in,) = await h.advance(WEEK)
    assert "Did you get a chance to read" in check_in.text
    await h.send("not yet")
    assert "nothing is lost" in h.last.text
