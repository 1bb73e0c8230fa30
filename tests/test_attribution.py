"""Who brought whom: the attribution rules, as a table, then through real conversations."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.core.dialogset import DialogSet
from bot.core.engine import step
from bot.core.events import Record, Send, Start, Text
from bot.core.state import Pending, UserState, new_state
from bot.features.advocates.attribution import refusal
from bot.features.advocates.effects import CreditReferral, Notify
from bot.features.advocates.invites import read_typed, show_code
from bot.features.advocates.records import Invitation
from bot.features.advocates.state import ADVOCACY
from bot.testing import ChatHarness

from .conftest import HarnessFactory

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ME = 10
PAUL = Invitation("P" * 22, "ABCDE12345", 77, "Paul", path=(77, 5))


def newcomer() -> UserState:
    return new_state(ME, "fr", NOW, "Zoé")


def started() -> UserState:
    return replace(newcomer(), flow="welcome", node="menu")


@pytest.mark.parametrize(
    ("state", "invitation", "typed", "expected"),
    [
        (newcomer(), PAUL, False, None),  # a newcomer with a valid link: credited
        (newcomer(), None, False, "unknown"),  # unknown code
        (newcomer(), replace(PAUL, revoked=True), False, "revoked"),
        (newcomer(), replace(PAUL, advocate_id=ME, path=(ME,)), False, "self"),
        (started(), PAUL, False, "existing_user"),  # already uses the bot
        (ADVOCACY.update(newcomer(), referrer=3), PAUL, False, "first_touch"),
        (ADVOCACY.update(started(), referrer=3), PAUL, True, "first_touch"),
        (newcomer(), replace(PAUL, path=(77, ME, 5)), False, "loop"),  # ME is above Paul
        (started(), replace(PAUL, path=(77, ME)), True, "loop"),
        (started(), PAUL, True, None),  # typed just after arriving: counts
    ],
)
def test_attribution_rules(
    state: UserState, invitation: Invitation | None, typed: bool, expected: str | None
) -> None:
    assert refusal(state, invitation, typed=typed) == expected


def sends(effects: tuple[object, ...]) -> list[str]:
    return [e.text for e in effects if isinstance(e, Send)]


@pytest.mark.parametrize(
    "invitation",
    [None, replace(PAUL, revoked=True), replace(PAUL, advocate_id=ME)],
    ids=["unknown", "revoked", "self"],
)
def test_a_link_that_does_not_count_is_a_normal_welcome_revealing_nothing(
    mini: DialogSet, invitation: Invitation | None
) -> None:
    _, plain_effects = step(mini, newcomer(), Start(), NOW)
    after, effects = step(mini, newcomer(), Start("P" * 22, known=invitation), NOW)
    assert sends(effects) == sends(plain_effects)  # word for word the same welcome
    assert ADVOCACY.of(after).referrer is None and "invited" not in after.vars
    assert not any(isinstance(e, CreditReferral | Notify) for e in effects)


def test_a_valid_link_credits_the_advocate_and_tells_the_newcomer_what_is_shared(
    mini: DialogSet,
) -> None:
    after, effects = step(mini, newcomer(), Start("P" * 22, known=PAUL), NOW)
    assert ADVOCACY.of(after).referrer == 77 and after.vars["advocate_name"] == "Paul"
    assert CreditReferral(77, "P" * 22, (77, 5)) in effects
    (notify,) = [e for e in effects if isinstance(e, Notify)]
    assert (notify.advocate_id, notify.kind) == (77, "joined")
    assert any("Paul verra où vous en êtes" in t and "/privacy" in t for t in sends(effects))
    assert after.pending is None  # no "who invited you?" question


def test_an_existing_user_following_a_link_keeps_their_first_touch(mini: DialogSet) -> None:
    state = ADVOCACY.update(started(), referrer=3)
    after, effects = step(mini, state, Start("P" * 22, known=PAUL), NOW)
    assert ADVOCACY.of(after).referrer == 3
    assert not any(isinstance(e, CreditReferral) for e in effects)


def test_missing_payload_then_typed_code(mini: DialogSet) -> None:
    state, _ = step(mini, newcomer(), Start(), NOW)
    assert state.pending == Pending("advocates", "referrer")
    after, effects = step(mini, state, Text("abcde-12345", known=PAUL), NOW)
    assert ADVOCACY.of(after).referrer == 77 and after.pending is None
    texts = sends(effects)
    assert any("C'est donc Paul qui vous a parlé de moi" in t for t in texts)
    assert any("Paul verra où vous en êtes" in t for t in texts)


def test_a_wrong_code_can_be_retried_then_the_question_is_dropped(mini: DialogSet) -> None:
    state, _ = step(mini, newcomer(), Start(), NOW)
    for attempt in (1, 2, 3):
        state, effects = step(mini, state, Text("XYZ-123"), NOW)
        assert any("Je ne retrouve pas cette invitation" in t for t in sends(effects))
        assert ADVOCACY.of(state).invite_tries == attempt
    assert state.pending is None  # asked once: three tries, then never again
    state, effects = step(mini, state, Text("XYZ-123"), NOW)
    assert "pas compris" in sends(effects)[0]


def test_text_meaning_something_else_closes_the_question(mini: DialogSet) -> None:
    state, _ = step(mini, newcomer(), Start(), NOW)
    after, _ = step(mini, state, Text("et ma vie privée ?"), NOW)  # a keyword of the menu
    assert (after.node, after.pending) == ("intro", None)


def test_a_sentence_is_answered_once_not_asked_again(mini: DialogSet) -> None:
    state, _ = step(mini, newcomer(), Start(), NOW)
    after, effects = step(mini, state, Text("bonjour je ne sais pas trop"), NOW)
    assert after.pending is None
    assert any("Ce n'est pas grave du tout" in t for t in sends(effects))


@pytest.mark.parametrize(
    ("typed", "payload", "code"),
    [
        ("abcde-12345", None, "ABCDE12345"),
        ("ABCDE 12345", None, "ABCDE12345"),
        ("abcdeI2345", None, "ABCDE12345"),  # I read as 1
        ("https://t.me/VieCoachBot?start=" + "x" * 22, "x" * 22, None),
        ("y" * 22, "y" * 22, None),
        ("Paul", None, None),
    ],
)
def test_reading_what_a_newcomer_types(typed: str, payload: str | None, code: str | None) -> None:
    read = read_typed(typed)
    assert (read.payload, read.code) == (payload, code)
    assert show_code("ABCDE12345") == "ABCDE-12345"


# -- through real conversations and the SQLite store -----------------------------------------
async def invite(paul: ChatHarness, name: str = "") -> tuple[str, str]:
    """Paul's /invite: (payload, code as shown)."""
    await paul.send(f"/invite {name}".strip())
    text = paul.last.text
    payload = re.search(r"start=([A-Za-z0-9_-]{22})", text)
    code = re.search(r"<code>([0-9A-Z]{5}-[0-9A-Z]{5})</code>", text)
    assert payload and code, text
    return payload.group(1), code.group(1)


async def test_first_touch_wins_between_two_advocates(make_harness: HarnessFactory) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    anne = await make_harness(user_id=2, name="Anne")
    zoe = await make_harness(user_id=3, name="Zoé")
    from_paul, _ = await invite(paul)
    from_anne, _ = await invite(anne)
    await zoe.send(f"/start {from_paul}")
    await zoe.send(f"/start {from_anne}")
    store = zoe.conversations.store
    state = await store.load(3)
    assert state is not None and ADVOCACY.of(state).referrer == 1
    assert (await store.advocates.friends_page(1, 8)).total == 1
    assert (await store.advocates.friends_page(2, 8)).total == 0


async def test_a_typed_code_or_name_after_arriving_without_the_link(
    make_harness: HarnessFactory,
) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    _, code = await invite(paul)
    zoe = await make_harness(user_id=3, name="Zoé")
    await zoe.send("/start")
    zoe.expect("Un code d'invitation ?")
    await zoe.send(code.lower())
    zoe.expect("C'est donc Paul qui vous a parlé de moi")
    # a named invitation: the newcomer may simply type the advocate's first name
    await invite(paul, "Marie")
    marie = await make_harness(user_id=4, name="Marie")
    await marie.send("/start")
    await marie.send("paul")
    marie.expect("C'est donc Paul")
    # …but a name that matches no invitation made for them finds nothing
    luc = await make_harness(user_id=5, name="Luc")
    await luc.send("/start")
    await luc.send("Paul")
    luc.expect("Je ne retrouve pas cette invitation")
    assert ADVOCACY.of(await luc.conversations.store.load(5)).referrer is None  # type: ignore[union-attr]


async def test_inviting_yourself_or_a_loop_is_ignored(make_harness: HarnessFactory) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    own, _ = await invite(paul)
    await paul.send(f"/start {own}")
    assert ADVOCACY.of(await paul.conversations.store.load(1)).referrer is None  # type: ignore[union-attr]
    # A loop needs a newcomer who already has friends of her own: Zoé invites Luc, then
    # types Luc's code. (/invite closes her question, so this takes forcing it open again;
    # the rule guards the tree all the same.)
    zoe = await make_harness(user_id=3, name="Zoé")
    await zoe.send("/start")
    from_zoe, _ = await invite(zoe)
    luc = await make_harness(user_id=5, name="Luc")
    await luc.send(f"/start {from_zoe}")
    await luc.send("/start")
    _, luc_code = await invite(luc)
    state = await zoe.conversations.store.load(3)
    assert state is not None
    await zoe.conversations.store.save(
        state, replace(state, pending=Pending("advocates", "referrer")), [], {}
    )
    await zoe.send(luc_code)
    zoe.expect("Je ne retrouve pas cette invitation")
    assert ADVOCACY.of(await zoe.conversations.store.load(3)).referrer is None  # type: ignore[union-attr]


async def test_a_revoked_link_no_longer_credits_anyone(make_harness: HarnessFactory) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    payload, code = await invite(paul, "Zoé")
    await paul.send("/invites")
    await paul.press(f"({code})")
    paul.expect("ne fonctionne plus")
    await paul.press_data(f"!revoke:{code.replace('-', '')}")  # pressed again: nothing
    paul.expect("n'existe plus")
    zoe = await make_harness(user_id=3, name="Zoé")
    await zoe.send(f"/start {payload}")
    zoe.expect("Un code d'invitation ?")
    assert ADVOCACY.of(await zoe.conversations.store.load(3)).referrer is None  # type: ignore[union-attr]


async def test_nobody_can_revoke_someone_elses_link(make_harness: HarnessFactory) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    payload, code = await invite(paul)
    eve = await make_harness(user_id=6, name="Eve")
    await eve.send("/start")
    await eve.press_data(f"!revoke:{code.replace('-', '')}")
    eve.expect("n'existe plus, ou il ne vous appartient pas")
    found = await paul.conversations.store.advocates.invitation(payload=payload)
    assert found is not None and not found.revoked


def test_a_greeting_is_not_taken_for_a_code(bundled: DialogSet) -> None:
    state, _ = step(bundled, newcomer(), Start(), NOW)
    assert state.pending == Pending("advocates", "referrer")
    after, effects = step(bundled, state, Text("Bonjour !"), NOW)
    assert (after.node, after.pending) == ("interest", None)  # the welcome's one question
    assert not any("Je ne retrouve pas" in t for t in sends(effects))


def test_emoji_or_punctuation_is_no_answer_to_who_invited_you(mini: DialogSet) -> None:
    """Emoji while "who invited you?" is open are neither a code nor a name: the question
    closes without "I can't find that invitation", and the text is read as any other."""
    state, _ = step(mini, newcomer(), Start(), NOW)
    after, effects = step(mini, state, Text("😀😀😀"), NOW)
    names = [e.name for e in effects if isinstance(e, Record)]
    assert "referrer_typed" not in names and after.pending is None
