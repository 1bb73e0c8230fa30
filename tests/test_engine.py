"""The pure engine, table-driven: no event loop, no store, no clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.core import callback
from bot.core.dialogset import DialogSet
from bot.core.engine import step
from bot.core.events import (
    Command,
    ExportUserData,
    ForgetUser,
    Press,
    Record,
    Send,
    Start,
    Text,
    Unsupported,
    parse_text,
)
from bot.core.state import Pending, UserState, new_state
from bot.features.advocates.effects import CreditReferral
from bot.features.advocates.records import Invitation
from bot.features.advocates.state import ADVOCACY
from bot.features.nudges.state import NUDGES

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def fresh(lang: str = "fr") -> UserState:
    return new_state(7, lang, NOW, "Zoé")


def sends(effects: tuple[object, ...]) -> list[Send]:
    return [e for e in effects if isinstance(e, Send)]


def records(effects: tuple[object, ...]) -> list[str]:
    return [e.name for e in effects if isinstance(e, Record)]


def at(mini: DialogSet, flow: str, node: str, **changes: object) -> UserState:
    n = mini.flows[flow].nodes[node]
    return replace(fresh(), flow=flow, node=node, node_version=n.version, **changes)  # type: ignore[arg-type]


def data(mini: DialogSet, flow: str, node: str, button: str, version: str | None = None) -> str:
    n = mini.flows[flow].nodes[node]
    return callback.encode_dialog(version or n.version, flow, node, button)


def test_start_follows_goto_to_the_menu(mini: DialogSet) -> None:
    state, effects = step(mini, fresh(), Start(), NOW)
    texts = [s.text for s in sends(effects)]
    assert texts[:2] == ["Bonjour Zoé\u202f!", "Par où commencer\u202f?"]
    assert texts[2] == "Un code d'invitation\u202f?"
    assert (state.flow, state.node, state.pending) == (
        "welcome",
        "menu",
        Pending("advocates", "referrer"),
    )
    assert [b.label for b in sends(effects)[1].buttons] == ["M'informer", "Au revoir"]


def test_start_with_invite_payload_takes_the_invited_branch(mini: DialogSet) -> None:
    invitation = Invitation("p" * 22, "ABCDE12345", 77, "Paul", path=(77,))
    state, effects = step(mini, fresh("en"), Start("p" * 22, known=invitation), NOW)
    texts = [s.text for s in sends(effects)]
    assert texts[1] == "A friend invited you."
    assert texts[3].startswith("🔒 Good to know: Paul will see how far you are")
    assert state.vars == {"invited": True, "advocate_name": "Paul"}
    assert ADVOCACY.of(state).referrer == 77 and state.pending is None
    assert CreditReferral(77, "p" * 22, (77,)) in effects


def test_start_with_an_unknown_payload_is_a_plain_welcome(mini: DialogSet) -> None:
    state, effects = step(mini, fresh("en"), Start("abc_123"), NOW)
    assert "invited" not in state.vars and ADVOCACY.of(state).referrer is None
    assert state.pending == Pending(
        "advocates", "referrer"
    )  # asked, as if there had been no payload
    assert not any(isinstance(e, CreditReferral) for e in effects)


def test_user_name_is_escaped_never_a_template(mini: DialogSet) -> None:
    state = replace(fresh(), first_name="<b>{{ 7*7 }}</b> & co")
    _, effects = step(mini, state, Start(), NOW)
    assert sends(effects)[0].text == "Bonjour &lt;b&gt;{{ 7*7 }}&lt;/b&gt; &amp; co\u202f!"


@pytest.mark.parametrize(
    ("event", "expected_node", "expected_record"),
    [
        (Text("INFO s'il vous plaît"), "intro", "text_match"),
        (Text("la vie privee"), "intro", "text_match"),  # accents ignored
        (Text("Privacy!"), "intro", "text_match"),  # other language's keywords too
        (Text("infographie"), "menu", "fallback"),  # whole words only
        (Text("x" * 5000), "menu", "too_long"),
        (Unsupported("sticker"), "menu", "unsupported"),
        (Unsupported("hologram"), "menu", "unsupported"),
    ],
)
def test_free_text_and_other_input_at_the_menu(
    mini: DialogSet, event: object, expected_node: str, expected_record: str
) -> None:
    state, effects = step(mini, at(mini, "welcome", "menu"), event, NOW)  # type: ignore[arg-type]
    assert state.node == expected_node
    assert expected_record in records(effects)
    assert sends(effects), "every input gets an answer"


def test_fallback_repeats_current_choices(mini: DialogSet) -> None:
    _, effects = step(mini, at(mini, "welcome", "menu"), Text("bof"), NOW)
    (reply,) = sends(effects)
    assert "pas compris" in reply.text
    assert [b.label for b in reply.buttons] == ["M'informer", "Au revoir"]


def test_press_moves_and_sets_variables(mini: DialogSet) -> None:
    state, effects = step(
        mini, at(mini, "informer", "intro"), Press(data(mini, "informer", "intro", "hidden")), NOW
    )
    assert state.node == "hidden"
    assert state.vars["worry"] == "hidden"
    assert state.milestones == {"i_hidden"}
    assert "(Médiamétrie, 2013)" in sends(effects)[0].text


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("garbage", "malformed"),
        ("x" * 100, "malformed"),
        ("!forget:yes", "system_not_pending"),
        ("!lang:fr", "system_not_pending"),
        ("{v}|welcome|menu|bye", "not_current_node"),  # a button of another node
        ("zzzzzz|informer|intro|hidden", "old_version"),  # older dialog version
        ("{v}|informer|intro|nope", "unknown_button"),  # forged button id
    ],
)
def test_stale_or_forged_presses_never_move_state(mini: DialogSet, raw: str, reason: str) -> None:
    before = at(mini, "informer", "intro")
    raw = raw.replace("{v}", mini.flows["informer"].nodes["intro"].version)
    after, effects = step(mini, before, Press(raw), NOW)
    assert replace(after, updated_at=None, active_at=None) == replace(before, updated_at=None)
    assert records(effects) == ["stale_press"]
    expired, current = sends(effects)
    assert "expiré" in expired.text
    assert current.text == "Qu'est-ce qui vous retient\u202f?" and current.buttons


def test_hidden_button_cannot_be_pressed(mini: DialogSet) -> None:
    before = at(mini, "welcome", "menu")
    after, effects = step(mini, before, Press(data(mini, "welcome", "menu", "secret")), NOW)
    assert after.node == "menu" and "stale_press" in records(effects)
    after, _ = step(
        mini,
        replace(before, vars={"vip": True}),
        Press(data(mini, "welcome", "menu", "secret")),
        NOW,
    )
    assert after.node == "intro"


def test_completing_a_stage_and_progress(mini: DialogSet) -> None:
    state = at(mini, "informer", "hidden", milestones=frozenset({"i_hidden"}))
    state, effects = step(mini, state, Press(data(mini, "informer", "hidden", "done")), NOW)
    assert state.completed == {"I"}
    assert "étape I\u00a0: 2/2" in sends(effects)[0].text
    assert records(effects) == ["press", "milestone", "stage_completed"]
    _, effects = step(mini, state, Command("progress"), NOW)
    assert sends(effects)[0].text.splitlines() == [
        "Viraliser\u00a0: 0/0",
        "Informer\u00a0: 2/2 ✓",
        "Éduquer\u00a0: 0/0",
    ]


def test_forget_needs_confirmation(mini: DialogSet) -> None:
    state, effects = step(mini, at(mini, "welcome", "menu"), Command("forget"), NOW)
    assert state.pending == Pending("privacy", "forget")
    yes, no = sends(effects)[0].buttons
    kept, effects = step(mini, state, Press(no.data), NOW)
    assert (
        kept.pending is None
        and kept.node == "menu"
        and not any(isinstance(e, ForgetUser) for e in effects)
    )
    gone, effects = step(mini, state, Press(yes.data), NOW)
    assert any(isinstance(e, ForgetUser) for e in effects)
    assert not gone.started and not records(effects), "nothing about the person is logged"


def test_forget_confirmation_expires_after_another_event(mini: DialogSet) -> None:
    state, effects = step(mini, at(mini, "welcome", "menu"), Command("forget"), NOW)
    yes = sends(effects)[0].buttons[0]
    state, _ = step(mini, state, Text("hmm"), NOW)
    _, effects = step(mini, state, Press(yes.data), NOW)
    assert not any(isinstance(e, ForgetUser) for e in effects)


def test_language_by_button_and_argument(mini: DialogSet) -> None:
    state, effects = step(mini, at(mini, "welcome", "menu"), Command("language"), NOW)
    english = next(b for b in sends(effects)[0].buttons if b.label == "English")
    state, effects = step(mini, state, Press(english.data), NOW)
    assert state.lang == "en"
    assert [s.text for s in sends(effects)] == ["I will speak English.", "Where shall we start?"]
    state, _ = step(mini, state, Command("language", "fr"), NOW)
    assert state.lang == "fr"


@pytest.mark.parametrize(
    ("command", "check"),
    [
        ("help", lambda s, e: "/progress" in sends(e)[0].text),
        ("stop", lambda s, e: NUDGES.of(s).reminders is False),
        ("mydata", lambda s, e: any(isinstance(x, ExportUserData) for x in e)),
        ("restart", lambda s, e: s.node == "menu" and s.milestones == {"i_hidden"}),
        ("frobnicate", lambda s, e: "Commande inconnue\u00a0: /frobnicate" in sends(e)[0].text),
    ],
)
def test_commands(mini: DialogSet, command: str, check: object) -> None:
    state = at(mini, "informer", "hidden", milestones=frozenset({"i_hidden"}))
    after, effects = step(mini, state, Command(command), NOW)
    assert check(after, effects)  # type: ignore[operator]


def test_start_again_resumes_where_the_person_was(mini: DialogSet) -> None:
    state = at(mini, "informer", "intro")
    after, effects = step(mini, state, Start("someone"), NOW)
    assert after.node == "intro" and "invited" not in after.vars
    assert [s.text for s in sends(effects)] == [
        "Content de vous revoir.",
        "Qu'est-ce qui vous retient\u202f?",
    ]


def test_text_before_start_starts(mini: DialogSet) -> None:
    state, _ = step(mini, fresh(), Text("bonjour"), NOW)
    assert state.node == "menu"


def test_a_node_removed_from_the_dialogs_moves_the_person_on(mini: DialogSet) -> None:
    state = replace(fresh(), flow="informer", node="deleted_node")
    after, effects = step(mini, state, Text("bonjour"), NOW)
    assert after.node == "intro"
    assert "dialog_updated" in records(effects)
    state = replace(fresh(), flow="gone_flow", node="x")
    after, _ = step(mini, state, Command("help"), NOW)
    assert (after.flow, after.node) == ("welcome", "menu")


@pytest.mark.parametrize(
    ("typed", "event"),
    [
        ("/start", Start(None)),
        ("/start abc-DEF_1", Start("abc-DEF_1")),
        ("/start bad!payload", Start(None)),
        ("/start " + "a" * 65, Start(None)),
        ("/Help", Command("help")),
        ("/language en", Command("language", "en")),
        ("/help@vie_coach_bot", Command("help")),
        ("hello /help", Text("hello /help")),
        ("/", Text("/")),
    ],
)
def test_parse_text(typed: str, event: object) -> None:
    assert parse_text(typed) == event


def test_step_does_not_mutate_its_input(mini: DialogSet) -> None:
    before = at(mini, "informer", "intro")
    copy = replace(before)
    step(mini, before, Press(data(mini, "informer", "intro", "hidden")), NOW)
    assert before == copy


def test_flow_level_rules_apply_anywhere_after_the_nodes_own(bundled: DialogSet) -> None:
    welcome = bundled.flows["welcome"].nodes[bundled.flows["welcome"].start]
    state, _ = step(bundled, fresh(), Start(), NOW)
    assert state.node != "privacy" and welcome is not None
    after, _ = step(bundled, state, Text("Et ma VIE PRIVÉE alors ?"), NOW)
    assert (after.flow, after.node) == ("informer", "privacy")
    # while "who invited you?" is open, unmatched text is taken as an answer…
    after, effects = step(bundled, state, Text("Ginette Dupont Lagaffe"), NOW)
    assert after.node == state.node and "referrer_typed" in records(effects)
    # …and once it is closed, as text the bot does not understand
    after, effects = step(bundled, after, Text("Ginette Dupont Lagaffe"), NOW)
    assert after.node == state.node and "fallback" in records(effects)
    # text that means something goes where it means, question open or not
    after, _ = step(bundled, state, Text("j'ai déjà un compte"), NOW)
    assert (after.flow, after.node) == ("informer", "already")
