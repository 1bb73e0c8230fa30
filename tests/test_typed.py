"""What people type, through the engine: typed button labels, intents on rules and
buttons, replies that stay, "did you mean…?", and what was not understood kept for the
operators (without names), erased with the person."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app.bootstrap import standard_features
from bot.core.dialogset import DialogSet
from bot.core.engine import step
from bot.core.events import KeepUnknown, Press, Record, Send, Text
from bot.core.state import UserState, evolve, new_state
from bot.dialogs.load import check_directory, load_dialogs
from bot.runtime.conversation import Conversations, Person
from bot.store import SqliteStore
from bot.testing import ChatHarness, FakeClock
from bot.understanding import Guess

ROOT = Path(__file__).resolve().parent
TALK = ROOT / "fixtures" / "talk"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def talk() -> DialogSet:
    return load_dialogs(TALK, ("fr", "en"), "welcome", standard_features())


def at(dialogs: DialogSet, node: str, lang: str = "fr") -> UserState:
    n = dialogs.flows["welcome"].nodes[node]
    return evolve(new_state(7, lang, NOW, "Zoé"), flow="welcome", node=node, node_version=n.version)


def say(dialogs: DialogSet, state: UserState, text: str) -> tuple[UserState, list[Send], list[str]]:
    after, effects = step(dialogs, state, Text(text), NOW)
    sends = [e for e in effects if isinstance(e, Send)]
    return after, sends, [e.name for e in effects if isinstance(e, Record)]


@pytest.mark.parametrize(
    "typed",
    ["C'est fait", "cest fait", "c'est fais", "C'EST FAIT !!", "telephone ou tablette android"],
)
def test_a_typed_button_label_presses_it(talk: DialogSet, typed: str) -> None:
    after, sends, records = say(talk, at(talk, "menu"), typed)
    assert after.node == "installed" and records == ["text_press"]
    assert sends[0].text == "Bravo\u202f!"


@pytest.mark.parametrize(
    ("typed", "node"),
    [
        ("oui ok", "installed"),  # `yes` stands for the "C'est fait" button here
        ("pas maintenant", "bye"),  # `later`: the "Plus tard" button
        ("non merci", "bye"),  # the node's own rule
        ("laissez moi tranquile", "bye"),  # `stop`, anywhere, with a typo
    ],
)
def test_intents_press_buttons_and_follow_rules(talk: DialogSet, typed: str, node: str) -> None:
    after, _, records = say(talk, at(talk, "menu"), typed)
    assert after.node == node, records


def test_negation_is_not_the_word_it_denies(talk: DialogSet) -> None:
    after, _, _ = say(talk, at(talk, "menu"), "pas envie")
    assert after.node == "bye"  # "no", not "yes"


def test_a_node_rule_wins_over_the_anywhere_rule_for_the_same_intent(talk: DialogSet) -> None:
    after, sends, _ = say(talk, at(talk, "menu"), "jai pas le temps")
    assert after.node == "menu"  # the node says "take your time" and stays
    assert sends[0].text == "Prenez votre temps, rien ne presse." and sends[0].buttons
    elsewhere, _, _ = say(talk, at(talk, "installed"), "jai pas le temps")
    assert elsewhere.node == "time"  # the anywhere rule


def test_a_reply_rule_stays_and_shows_the_buttons_again(talk: DialogSet) -> None:
    after, sends, _ = say(talk, at(talk, "installed"), "merci beaucoup")
    assert after.node == "installed"
    assert sends[0].text == "Avec plaisir." and [b.label for b in sends[0].buttons] == [
        "Recommencer"
    ]


def test_an_english_speaker_left_on_french_is_understood(talk: DialogSet) -> None:
    after, _, _ = say(talk, at(talk, "menu"), "too busy right now sorry")
    assert after.node == "menu"  # no_time, the node's reply


def test_nonsense_falls_back_kindly_and_is_kept_for_the_operators(talk: DialogSet) -> None:
    before = at(talk, "menu")
    after, effects = step(talk, before, Text("qwerty azerty"), NOW)
    assert after.node == "menu"
    kept = [e for e in effects if isinstance(e, KeepUnknown)]
    assert kept == [KeepUnknown("welcome.menu", "fr", "qwerty azerty")]
    (sent,) = [e for e in effects if isinstance(e, Send)]
    assert [b.label for b in sent.buttons][-3:] == [
        "C'est fait ✅", "Plus tard", "Téléphone ou tablette Android"
    ]  # fmt: skip


class NearlyNoTime:
    """A matcher that is never sure, and finds `no_time` nearest (a fake, for the case
    where the real one hesitates)."""

    names = ("no_time", "thanks")

    def scores(self, text: str, lang: str) -> dict[str, float]:
        return {"no_time": 0.12, "thanks": 0.09}

    def best(self, text: str, lang: str, among: object = None) -> None:
        return None

    def rank(self, text: str, lang: str, among: object = None, limit: int = 3) -> tuple[Guess, ...]:
        return (Guess("no_time", 0.12), Guess("thanks", 0.09))[:limit]


def test_did_you_mean_offers_the_nearest_intents_and_acts_on_one(talk: DialogSet) -> None:
    unsure = replace(talk, matcher=NearlyNoTime())
    after, sends, records = say(unsure, at(unsure, "installed"), "le temps me manque")
    assert records == ["fallback"]
    near = [b for b in sends[0].buttons if b.data.startswith("!meant:")]
    assert [b.label for b in near] == ["Je n'ai pas le temps", "merci"]
    assert sends[0].text.startswith("Je ne suis pas sûr")
    chosen, _ = step(unsure, after, Press(near[0].data), NOW)
    assert chosen.node == "time"
    # offered at one node, the button has expired once the person is elsewhere
    stale, effects = step(unsure, chosen, Press(near[0].data), NOW)
    assert stale.node == "time" and "stale_press" in [
        e.name for e in effects if isinstance(e, Record)
    ]


def test_a_did_you_mean_button_for_an_intent_not_wired_here_expires(talk: DialogSet) -> None:
    here = at(talk, "installed")
    press = Press(f"!meant:{talk.flows['welcome'].nodes['installed'].version}-dont_know")
    after, effects = step(talk, here, press, NOW)
    assert after.node == "installed"
    assert [e.name for e in effects if isinstance(e, Record)] == ["stale_press"]


async def test_texts_not_understood_are_counted_without_names_and_erased(
    store: SqliteStore, talk: DialogSet
) -> None:
    clock = FakeClock()
    zoe = ChatHarness(Conversations(talk, store, "fr"), Person(1, "Zoé", "fr"), clock)
    paul = ChatHarness(Conversations(talk, store, "fr"), Person(2, "Paul", "fr"), clock)
    for h in (zoe, paul):
        await h.send("/start")
        await h.send("non")  # "did someone tell you about me?": closed kindly
        h.expect("Très bien, bienvenue", last=1)
        await h.send("Quelle heure est-il ?")
    await zoe.send("quelle heure est il")  # the same words, written otherwise
    rows = await store.unknown_texts(clock.now() - timedelta(days=1))
    assert rows == [("welcome.menu", "fr", "Quelle heure est-il ?", 3)]
    export = await store.export(1)
    assert [r["text"] for r in export["unknown_texts"]] == [
        "Quelle heure est-il ?", "quelle heure est il"
    ]  # fmt: skip
    await zoe.send("/forget")
    await zoe.press("Oui, effacer")
    assert (await store.unknown_texts(clock.now() - timedelta(days=1)))[0][3] == 1
    clock.advance(timedelta(days=31))
    await store.prune(clock.now())
    assert await store.unknown_texts(clock.now() - timedelta(days=60)) == []


INTENTS_WITH_MISTAKES = """\
intents:
  yes:
    examples: {fr: ["oui", "d'accord", "ok"], en: ["yes", "sure", "ok"]}
  "no":
    examples: {fr: ["non", "Plus tard !"], en: []}
  later:
    examples: {fr: ["plus tard", "Oui !", "une autre fois"], en: ["later", "not now", "soon"]}
"""


def test_the_checker_names_every_mistake_of_the_intents(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    for name in ("welcome.yaml", "messages.yaml"):
        (folder / name).write_text((TALK / name).read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "intents.yaml").write_text(INTENTS_WITH_MISTAKES, encoding="utf-8")
    dialogs, problems = check_directory(folder, ("fr", "en"), "welcome", standard_features())
    assert dialogs is None
    said = "\n".join(str(p) for p in problems)
    assert "intents.yaml:2: intent name True is not text" in said
    assert "intent 'no' has 2 example(s) in fr: write at least 3" in said
    assert "intent 'no' has no example in en" in said
    assert "example 'plus tard' (fr) is in both 'no' and 'later'" in said
    assert "missing built-in intent 'dont_know'" in said
    assert "welcome.yaml:6: unknown intent 'no_time'" in said  # an anywhere rule
    assert "welcome.yaml:18: node 'menu': unknown intent 'no_time'" in said


def test_built_in_intents_are_understood_where_the_step_gives_them_no_meaning(
    talk: DialogSet,
) -> None:
    """Typing "je sais pas" at a step that wires no `dont_know`: a general, kind answer, the
    step's buttons again, nothing moves, nothing kept as not understood."""
    before = at(talk, "installed")
    after, effects = step(talk, before, Text("jsp trop"), NOW)
    sends = [e for e in effects if isinstance(e, Send)]
    assert after.node == "installed"
    assert [e.name for e in effects if isinstance(e, Record)] == ["text_heard"]
    assert sends[0].text.startswith("Ce n'est pas grave") and sends[0].buttons
    assert not any(isinstance(e, KeepUnknown) for e in effects)


class ClearlyHelp:
    """A matcher that hears `help` clearly and `yes` weakly (a fake)."""

    names = ("help", "yes")

    def scores(self, text: str, lang: str) -> dict[str, float]:
        return {"help": 0.6, "yes": 0.3}

    def rank(self, text: str, lang: str, among: object = None, limit: int = 3) -> tuple[Guess, ...]:
        return (Guess("help", 0.6), Guess("yes", 0.3))[:limit]

    def best(self, text: str, lang: str, among: object = None) -> Guess | None:
        return self.rank(text, lang, among, 1)[0]


def test_a_clear_meaning_of_no_use_here_is_not_taken_for_a_weak_one(talk: DialogSet) -> None:
    """At the menu `yes` presses "C'est fait"; a text that is clearly a call for help and
    only weakly a yes must not press it: the bot answers the call for help instead."""
    clear = replace(talk, matcher=ClearlyHelp())
    after, sends, records = say(clear, at(clear, "menu"), "euh aidez moi oui")
    assert after.node == "menu" and records == ["text_heard"]
    assert sends[0].text.startswith("Je suis là")


def test_a_kept_text_loses_e_mail_addresses_and_long_numbers() -> None:
    from bot.core.engine import redact

    said = "je suis Odette, odette.m@free.fr, 06 12 34 56 78, 12 rue des Lilas 75011"
    assert redact(said) == "je suis Odette, [e-mail], ###, 12 rue des Lilas ###"


def test_a_menu_entry_must_be_a_command_of_its_feature() -> None:
    from bot.core.feature import Feature, FeatureError, check_features

    with pytest.raises(FeatureError, match="puts /friends in the menu"):
        check_features([Feature(name="x", menu=("friends",))])


class Scores:
    """A matcher that gives fixed scores, whatever is typed (a fake)."""

    def __init__(self, **scores: float) -> None:
        self.values = scores
        self.names = tuple(scores)

    def scores(self, text: str, lang: str) -> dict[str, float]:
        return dict(self.values)

    def rank(self, text: str, lang: str, among: object = None, limit: int = 3) -> tuple[Guess, ...]:
        ordered = sorted(self.values.items(), key=lambda kv: -kv[1])
        return tuple(Guess(name, score) for name, score in ordered)[:limit]

    def best(self, text: str, lang: str, among: object = None) -> Guess | None:
        return self.rank(text, lang, among, 1)[0]


@pytest.mark.parametrize(
    ("stop", "help_", "node"),
    [
        (0.34, 0.0, "installed"),  # a near tie keeps the step
        (0.5, 0.0, "bye"),  # a clear lead leaves
        # `help`, clearly ahead of `yes` though not of `stop`, rules the step's meaning out
        (0.35, 0.47, "bye"),
    ],
)
def test_leaving_the_step_takes_a_lead_over_its_own_meaning(
    talk: DialogSet, stop: float, help_: float, node: str
) -> None:
    """At the menu `yes` presses "C'est fait" and `stop` (an anywhere rule) leaves: when
    both are about as likely, the step's own meaning wins, since a wrong turn costs more."""
    fake = replace(talk, matcher=Scores(stop=stop, help=help_, **{"yes": 0.31}))
    after, _, _ = say(fake, at(fake, "menu"), "peu importe")
    assert after.node == node


def test_a_ready_person_is_not_sent_to_the_privacy_worry(bundled: DialogSet) -> None:
    """Typing "I have everything" at the practical check means its "all set"."""
    ready = bundled.flows["welcome"].nodes["ready"]
    state = evolve(
        new_state(7, "en", NOW, "Margaret"), flow="welcome", node="ready",
        node_version=ready.version,
    )  # fmt: skip
    after, _, _ = say(bundled, state, "I have everything")
    assert (after.flow, after.node) == ("eduquer", "intro")
    # a clear worry still leaves the step for its answer
    after, _, _ = say(bundled, state, "I'm worried about my privacy")
    assert (after.flow, after.node) == ("informer", "privacy")
