"""A/B variants of a node's text: the checker's sentences (file, line, node), the
assignment (deterministic, balanced, sticky, pinned), the exposure events (only when the
text is shown), and pinning a variant in a script. Real dialog folders (the fixture
tests/fixtures/variants, the mini set with one experiment on its menu), a real SQLite
file, the chat harness."""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.app.bootstrap import standard_features
from bot.app.cli import main
from bot.app.test_command import test_command as vie_test
from bot.core import variants
from bot.core.callback import encode_dialog
from bot.core.dialogset import DialogSet
from bot.core.engine import step
from bot.core.events import Command, Effect, Press, Record, Send, Start
from bot.core.model import Arm, Experiment
from bot.core.state import UserState, evolve, new_state
from bot.core.turn import Turn
from bot.dialogs.load import check_directory, load_dialogs
from bot.errors import Problem
from bot.runtime.conversation import Conversations, Person
from bot.store import SqliteStore
from bot.testing import ChatHarness, FakeClock, HarnessError
from bot.testing.scenario_parse import load_checked_scripts
from bot.testing.scenario_run import run_scenario
from bot.testing.scenarios import ScriptError, discover

from .conftest import BUNDLED, LANGS, ROOT

VARIANTS = ROOT / "tests" / "fixtures" / "variants"
NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
WARM = "On avance ensemble"  # only in the variant `warm` of the menu
SHORT_LINE = "        short: {weight: 1,"


def folder_with(tmp_path: Path, old: str = "", new: str = "", file: str = "welcome.yaml") -> Path:
    """A copy of the fixture (its links to the mini set followed) with one edit."""
    folder = tmp_path / "dialogs"
    shutil.copytree(VARIANTS, folder, symlinks=False, ignore=shutil.ignore_patterns("tests"))
    if old:
        path = folder / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"fixture changed: {old!r} not in {file}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def problems(folder: Path) -> list[Problem]:
    return check_directory(folder, LANGS, "welcome", standard_features())[1]


def line_of(folder: Path, needle: str, file: str = "welcome.yaml") -> int:
    """The line that is `needle`, else the first that holds it."""
    lines = (folder / file).read_text(encoding="utf-8").splitlines()
    exact = [i for i, text in enumerate(lines, start=1) if text == needle]
    return exact[0] if exact else next(i for i, t in enumerate(lines, start=1) if needle in t)


def only(found: list[Problem], fragment: str, severity: str = "error") -> Problem:
    wanted = [p for p in found if fragment in p.message and p.severity == severity]
    assert len(wanted) == 1, f"not one {severity} with {fragment!r}: {list(map(str, found))}"
    return wanted[0]


@pytest.fixture(scope="module")
def dialogs() -> DialogSet:
    return load_dialogs(VARIANTS, LANGS, "welcome", standard_features())


# -- the dialogs ------------------------------------------------------------------------------
def test_the_fixture_is_valid_and_its_menu_keeps_the_first_variant(dialogs: DialogSet) -> None:
    assert not [p for p in problems(VARIANTS) if p.severity == "error"]
    menu = dialogs.flows["welcome"].nodes["menu"]
    experiment = dialogs.experiments["menu_wording"]
    assert menu.experiment is experiment and experiment.node == "welcome.menu"
    assert experiment.outcome == "stage:I" and experiment.stage == "I"
    assert [(a.name, a.weight) for a in experiment.arms] == [("warm", 1.0), ("short", 1.0)]
    assert menu.say == experiment.arms[0].say and WARM in menu.say["fr"]
    text = (VARIANTS / "welcome.yaml").read_text(encoding="utf-8").splitlines()
    assert "short:" in text[experiment.arms[1].line - 1]
    assert "experiment: menu_wording" in text[experiment.line - 1]


def test_the_bundled_dialogs_have_no_experiment() -> None:
    bundled = load_dialogs(BUNDLED, LANGS, "welcome", standard_features())
    assert bundled.experiments == {}


MISTAKES = [
    # (old, new, what the message says, the line it points at (a text of it))
    ("short: {weight: 1,", "short: {weight: true,", "weight: expected number, got bool", "short:"),
    ("short: {weight: 1,", 'short: {weight: "1",', "weight: expected number, got str", "short:"),
    ("short: {weight: 1,", "short: {weight: -1,", "weight -1 must be a number of 0 or", "short:"),
    ("short: {weight: 1,", "short: {weight: .inf,", "weight inf must be a number", "short:"),
    ("        short:", "        Short:", "'Short' is not a valid id", "Short:"),
    ("experiment: menu_wording", "experiment: Menu", "'Menu' is not an id", "      experiment:"),
    ("outcome: {stage: I}", "outcome: {stage: X}", "'X' is not one of V, I, E", "      outcome:"),
    ("outcome: {stage: I}", "outcome: {stage: I, milestone: i_done}", "not both", "      outcome:"),
    ("outcome: {stage: I}", "outcome: {}", "a milestone or a stage", "      outcome:"),
    ("outcome: {stage: I}", "outcome: {milestone: nope}",
     "no node has `milestone: nope` (milestones: i_done, i_hidden)", "      outcome:"),
    ("      experiment: menu_wording\n", "", "say: missing key 'experiment'", "    say:"),
    ('en: "Where shall we start?"}', 'de: "Wo?"}', "unknown key 'de' in short", "short:"),
    ('en: "Where shall we start?"}', "}", "short: missing key 'en'", "short:"),
    ('fr: "Par où commencer ?"', 'fr: "Par où {{ vars.nope }} ?"',
     "say.variants.short.fr: unknown variable 'vars.nope'", "short:"),
    ("{{ user.first_name }} ? On", "{{ user.nom }} ? On",
     "say.variants.warm.fr: unknown variable 'user.nom'", 'fr: "Par où commencer, {{ user.nom'),
    ('fr: "Par où commencer ?"', 'fr: "{% for i in range(500) %}Par où commencer ? {% endfor %}"',
     "say.variants.short.fr can render up to", "short:"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "says", "at"), MISTAKES, ids=[m[2][:30] for m in MISTAKES])
def test_each_mistake_is_told_with_its_file_line_and_node(
    tmp_path: Path, old: str, new: str, says: str, at: str
) -> None:
    folder = folder_with(tmp_path, old, new)
    dialogs, found = check_directory(folder, LANGS, "welcome", standard_features())
    assert dialogs is None, "the set must be refused"
    p = only(found, says)
    assert Path(p.file).name == "welcome.yaml" and (p.line, p.node) == (line_of(folder, at), "menu")


def test_fewer_than_two_variants_and_all_weights_zero(tmp_path: Path) -> None:
    folder = folder_with(tmp_path / "one", SHORT_LINE, "        #")
    p = only(problems(folder), "has 1 variant: an A/B test needs at least two")
    assert (p.line, p.node) == (line_of(folder, "variants:"), "menu")
    folder = folder_with(tmp_path / "zero", "          weight: 1\n", "          weight: 0\n")
    text = (folder / "welcome.yaml").read_text(encoding="utf-8")
    (folder / "welcome.yaml").write_text(text.replace(SHORT_LINE, "        short: {weight: 0,"))
    p = only(problems(folder), "every weight is 0")
    assert (p.line, p.node) == (line_of(folder, "variants:"), "menu")


def test_one_weight_zero_is_allowed(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, SHORT_LINE, "        short: {weight: 0,")
    assert not [p for p in problems(folder) if p.severity == "error"]


def test_an_experiment_name_is_unique_in_the_whole_set(tmp_path: Path) -> None:
    twin = (
        "    say:\n      experiment: menu_wording\n      outcome: {milestone: i_done}\n"
        '      variants: {a: {fr: "A.", en: "A."}, b: {fr: "B.", en: "B."}}\n'
    )
    intro = '    say: {fr: "Qu\'est-ce qui vous retient ?", en: "What holds you back?"}\n'
    folder = folder_with(tmp_path, intro, twin, "informer.yaml")
    first = line_of(folder, "experiment: menu_wording", "informer.yaml")
    # files are read in name order: informer.yaml's is the first of that name
    p = only(problems(folder), f"'menu_wording' is already at informer.intro (line {first})")
    assert Path(p.file).name == "welcome.yaml" and p.node == "menu"
    assert p.line == line_of(folder, "experiment: menu_wording")


def test_a_variant_is_checked_for_typography_at_its_own_line(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, 'fr: "Par où commencer ?"', "fr: 'Par \"où\" commencer ?'")
    p = only(problems(folder), 'say.variants.short.fr: "Par "où" comm', "warning")
    assert (p.line, p.node) == (line_of(folder, "short:"), "menu")


def test_an_outcome_nobody_can_reach_after_the_node_is_a_warning(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "outcome: {stage: I}", "outcome: {stage: E}")
    p = only(problems(folder), "no path from this node leads to stage:E", "warning")
    assert (p.line, p.node) == (line_of(folder, "      outcome:"), "menu")
    assert not [p for p in problems(folder) if p.severity == "error"]


def test_an_outcome_given_by_the_node_itself_is_a_warning(tmp_path: Path) -> None:
    folder = folder_with(tmp_path, "    buttons:\n", "    milestone: menu_seen\n    buttons:\n")
    text = (folder / "welcome.yaml").read_text(encoding="utf-8")
    text = text.replace("outcome: {stage: I}", "outcome: {milestone: menu_seen}")
    (folder / "welcome.yaml").write_text(text, encoding="utf-8")
    p = only(problems(folder), "its own node gives milestone:menu_seen", "warning")
    assert (p.line, p.node) == (line_of(folder, "      outcome:"), "menu")


def test_a_change_of_weights_keeps_the_buttons_and_a_change_of_text_does_not(
    tmp_path: Path, dialogs: DialogSet
) -> None:
    version = dialogs.flows["welcome"].nodes["menu"].version
    weights = load_dialogs(
        folder_with(tmp_path / "w", SHORT_LINE, "        short: {weight: 3,"),
        LANGS,
        "welcome",
        standard_features(),
    )
    assert weights.flows["welcome"].nodes["menu"].version == version
    worded = load_dialogs(
        folder_with(tmp_path / "t", "Par où commencer ?", "Par où commencer donc ?"),
        LANGS,
        "welcome",
        standard_features(),
    )
    assert worded.flows["welcome"].nodes["menu"].version != version


# -- assignment -------------------------------------------------------------------------------
def experiment(*weights: float, name: str = "menu_wording") -> Experiment:
    arms = tuple(Arm(f"arm{i}", w, {"fr": f"{i}", "en": f"{i}"}, i) for i, w in enumerate(weights))
    return Experiment(name, "welcome.menu", "stage:I", arms, 1, 1)


def independent_point(name: str, user_id: int) -> float:
    """The documented draw, computed here again: blake2b (8 bytes) of name NUL id, its top
    53 bits over 2**53."""
    digest = hashlib.blake2b(f"{name}\0{user_id}".encode(), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 11) / 2**53


def test_the_draw_is_deterministic_and_the_same_in_any_process() -> None:
    both = experiment(1, 1)
    for user_id in range(1, 200):
        assert variants.point("menu_wording", user_id) == independent_point("menu_wording", user_id)
        arms = {variants.drawn(both, user_id).name for _ in range(3)}
        assert arms == {"arm0" if independent_point("menu_wording", user_id) < 0.5 else "arm1"}
    # fixed by the hash, not by Python's per-process salted `hash`
    assert [variants.drawn(both, i).name for i in range(1, 8)] == [
        "arm0", "arm1", "arm1", "arm0", "arm0", "arm1", "arm0",
    ]  # fmt: skip


@pytest.mark.parametrize("weights", [(1, 1), (1, 1, 2), (5, 95), (3, 0, 1)])
def test_ten_thousand_people_are_split_within_2_percent_of_the_weights(
    weights: tuple[float, ...],
) -> None:
    counts = Counter(variants.drawn(experiment(*weights), i).name for i in range(1, 10_001))
    for i, weight in enumerate(weights):
        share = counts[f"arm{i}"] / 10_000
        assert abs(share - weight / sum(weights)) < 0.02, (weights, counts)
    assert counts["arm1"] > 0 or weights[1] == 0
    if 0 in weights:
        assert counts[f"arm{weights.index(0)}"] == 0


def test_two_experiments_split_people_independently() -> None:
    a, b = experiment(1, 1, name="first"), experiment(1, 1, name="second")
    pairs = Counter(
        (variants.drawn(a, i).name, variants.drawn(b, i).name) for i in range(1, 10_001)
    )
    for pair in (("arm0", "arm0"), ("arm0", "arm1"), ("arm1", "arm0"), ("arm1", "arm1")):
        assert abs(pairs[pair] / 10_000 - 0.25) < 0.02, pairs


def test_an_arm_once_shown_is_kept_when_the_weights_change() -> None:
    before, after = experiment(1, 1), experiment(0, 1)  # arm0 closed to newcomers
    people = [new_state(i, "fr", NOW) for i in range(1, 401)]
    shown = [variants.keep(s, before, variants.arm_of(before, s)) for s in people]
    assert {variants.arm_of(before, s).name for s in shown} == {"arm0", "arm1"}
    for state in shown:
        assert variants.arm_of(after, state) == after.arm(variants.arm_of(before, state).name)
    assert {variants.arm_of(after, s).name for s in people} == {"arm1"}  # never shown
    gone = Experiment("menu_wording", "welcome.menu", "stage:I", after.arms[1:], 1, 1)
    assert {variants.arm_of(gone, s).name for s in shown} == {"arm1"}  # its arm was removed


def test_a_pin_wins_over_the_draw_and_over_the_arm_shown() -> None:
    both = experiment(1, 1)
    state = new_state(1, "fr", NOW)  # the draw gives arm0
    shown = variants.keep(state, both, variants.arm_of(both, state))
    pinned = variants.pin(shown, {"menu_wording": both}, "menu_wording", "arm1")
    assert variants.arm_of(both, pinned).name == "arm1"
    assert pinned.vars == {"variant:menu_wording": "arm1"}
    with pytest.raises(variants.UnknownArm, match=r"no variant 'x' \(variants: arm0, arm1\)"):
        variants.pin(state, {"menu_wording": both}, "menu_wording", "x")
    with pytest.raises(variants.UnknownArm, match=r"no experiment 'nope'.*menu_wording"):
        variants.pin(state, {"menu_wording": both}, "nope", "arm0")


# -- exposure ---------------------------------------------------------------------------------
def exposures(effects: tuple[Effect, ...]) -> list[dict[str, Any]]:
    return [dict(e.data) for e in effects if isinstance(e, Record) and e.name == "exposure"]


def pinned_state(dialogs: DialogSet, arm: str, user_id: int = 1) -> UserState:
    return variants.pin(new_state(user_id, "fr", NOW), dialogs.experiments, "menu_wording", arm)


def test_an_exposure_is_recorded_each_time_the_text_is_shown(dialogs: DialogSet) -> None:
    state, effects = step(dialogs, pinned_state(dialogs, "short"), Start(), NOW)
    exposure = {
        "experiment": "menu_wording",
        "arm": "short",
        "node": "welcome.menu",
        "outcome": "stage:I",
    }
    assert exposures(effects) == [exposure]
    assert WARM not in " ".join(e.text for e in effects if isinstance(e, Send))
    state, effects = step(dialogs, state, Start(), NOW)  # welcome back: the menu again
    assert exposures(effects) == [exposure]
    state, effects = step(dialogs, state, Command("restart", ""), NOW)
    assert exposures(effects) == [exposure]


def test_no_exposure_where_the_text_is_not_shown(dialogs: DialogSet) -> None:
    state, _ = step(dialogs, new_state(1, "fr", NOW), Start(), NOW)
    for command in ("progress", "help", "mydata", "language"):
        state, effects = step(dialogs, state, Command(command, ""), NOW)
        assert exposures(effects) == [], command
    state, effects = step(dialogs, state, Press(_press(dialogs, "inform")), NOW)
    assert exposures(effects) == [] and state.node == "intro"


def _press(dialogs: DialogSet, button: str) -> str:
    menu = dialogs.flows["welcome"].nodes["menu"]
    return encode_dialog(menu.version, "welcome", "menu", button)


def test_the_drawn_arm_is_kept_in_the_state_when_shown_and_only_then(dialogs: DialogSet) -> None:
    fresh = new_state(1, "fr", NOW)
    assert variants.kept_as("menu_wording") not in fresh.vars
    state, effects = step(dialogs, fresh, Start(), NOW)
    drawn = variants.drawn(dialogs.experiments["menu_wording"], 1).name
    assert state.vars[variants.kept_as("menu_wording")] == drawn == exposures(effects)[0]["arm"]
    # reading the text for someone (what a feature may do) shows nothing: nothing kept
    turn = Turn(dialogs, fresh, NOW)
    assert WARM in turn.node_text(dialogs.flows["welcome"].nodes["menu"]) or drawn == "short"
    assert turn.state is fresh and turn.effects == []


def test_a_node_that_moves_on_by_goto_shows_its_variant_and_counts_it(tmp_path: Path) -> None:
    """Its text is sent before the conversation moves on: it is shown, so it counts."""
    hello = '    say: {fr: "Bonjour {{ user.first_name }} !", en: "Hello {{ user.first_name }}!"}\n'
    greeting = (
        "    say:\n      experiment: greeting\n      outcome: {milestone: i_done}\n"
        '      variants: {hi: {fr: "Salut !", en: "Hi!"}, hello: {fr: "Bonjour !", en: "Hello!"}}\n'
    )
    two = load_dialogs(
        folder_with(tmp_path, hello, greeting), LANGS, "welcome", standard_features()
    )
    state = variants.pin(new_state(1, "fr", NOW), two.experiments, "greeting", "hi")
    state, effects = step(two, state, Start(), NOW)
    assert [(e["experiment"], e["node"]) for e in exposures(effects)] == [
        ("greeting", "welcome.start"),
        ("menu_wording", "welcome.menu"),
    ]
    said = [e.text for e in effects if isinstance(e, Send)]
    assert "Salut" in said[0] and "Bonjour" not in said[0]


async def test_the_arm_survives_the_store_and_exposures_reach_the_log(
    store: SqliteStore, dialogs: DialogSet
) -> None:
    clock = FakeClock(NOW)
    conversations = Conversations(dialogs, store, "fr")
    anna = ChatHarness(conversations, Person(1, "Anna", "fr"), clock)
    await anna.send("/start")
    await anna.press("M'informer")
    await anna.press("Retour")
    shown = variants.drawn(dialogs.experiments["menu_wording"], 1).name
    stored = await store.load(1)
    assert stored is not None and stored.vars == {"variant:menu_wording": shown}
    rows = await store.fetch_all(
        "SELECT data FROM events WHERE user_id = 1 AND name = 'exposure' ORDER BY id"
    )
    assert len(rows) == 2 and all(f'"arm":"{shown}"' in row[0] for row in rows)
    # the first exposure is the person's arm, in the experiments' table (migration 0007)
    table = await store.fetch_all("SELECT experiment, user_id, arm, outcome FROM exposures")
    assert [tuple(row) for row in table] == [("menu_wording", 1, shown, "stage:I")]


async def test_a_change_of_weights_moves_nobody_who_saw_an_arm(
    tmp_path: Path, store: SqliteStore, dialogs: DialogSet
) -> None:
    clock = FakeClock(NOW)
    conversations = Conversations(dialogs, store, "fr")
    people = [ChatHarness(conversations, Person(i, "Zoé", "fr"), clock) for i in range(1, 21)]
    for person in people:
        await person.send("/start")
    first = {p.person.user_id: "warm" if WARM in p.last.text else "short" for p in people}
    assert set(first.values()) == {"warm", "short"}
    closed = folder_with(tmp_path, "          weight: 1\n", "          weight: 0\n")  # warm
    conversations.swap(load_dialogs(closed, LANGS, "welcome", standard_features()))
    for person in people:
        await person.send("/start")
        assert (WARM in person.last.text) == (first[person.person.user_id] == "warm")
    newcomer = ChatHarness(conversations, Person(99, "Léa", "fr"), clock)
    await newcomer.send("/start")
    assert WARM not in newcomer.last.text


async def test_the_harness_pins_a_variant(store: SqliteStore, dialogs: DialogSet) -> None:
    conversations = Conversations(dialogs, store, "fr")
    zoe = ChatHarness(conversations, Person(1, "Zoé", "fr"), FakeClock(NOW))
    await zoe.pin("menu_wording", "warm")
    await zoe.send("/start")
    zoe.expect(WARM)
    await zoe.pin("menu_wording", "short")
    await zoe.send("/start")
    zoe.expect("Par où commencer ?", last=1)
    assert WARM not in zoe.last.text
    with pytest.raises(HarnessError, match=r"no variant 'cold' \(variants: warm, short\)"):
        await zoe.pin("menu_wording", "cold")
    with pytest.raises(HarnessError, match=r"no experiment 'menu' .*\(experiments: menu_wording\)"):
        await zoe.pin("menu", "warm")


# -- scripts ----------------------------------------------------------------------------------
async def test_the_fixture_scripts_pin_and_pass(dialogs: DialogSet) -> None:
    scenarios = load_checked_scripts(discover(VARIANTS), dialogs)
    assert len(scenarios) >= 4
    for scenario in scenarios:
        result = await run_scenario(scenario, dialogs)
        assert result.passed, result.failure


def script_problems(tmp_path: Path, steps: str, dialogs: DialogSet) -> str:
    path = tmp_path / "pins.yaml"
    body = "\n".join("      " + line for line in steps.strip("\n").splitlines())
    path.write_text(f"scenarios:\n  - name: pins\n    steps:\n{body}\n", encoding="utf-8")
    with pytest.raises(ScriptError) as caught:
        load_checked_scripts([path], dialogs)
    return str(caught.value)


def test_a_pin_that_is_no_mapping_is_refused_with_its_line(
    tmp_path: Path, dialogs: DialogSet
) -> None:
    told = script_problems(tmp_path, "- pin: short\n- pin: {menu_wording: true}", dialogs)
    assert "pins.yaml:4: scenario 'pins', step 1: `pin` is a mapping of experiment to " in told
    assert "pins.yaml:5: scenario 'pins', step 2: `pin` is a mapping" in told


def test_a_pin_naming_what_the_dialogs_lack_is_refused_with_its_line(
    tmp_path: Path, dialogs: DialogSet
) -> None:
    told = script_problems(
        tmp_path,
        """
- pin: {menu: short}
- {as: me, pin: {menu_wording: cold}}
- start: ""
- expect: {variant: {menu_wording: tiède}}
""",
        dialogs,
    )
    assert (
        "pins.yaml:4: scenario 'pins', step 1: no experiment 'menu' in the dialogs "
        "(experiments: menu_wording)" in told
    )
    assert (
        "pins.yaml:5: scenario 'pins', step 2: experiment 'menu_wording' has no variant "
        "'cold' (variants: warm, short)" in told
    )
    assert "pins.yaml:7: scenario 'pins', step 4: experiment 'menu_wording' has no variant" in told


async def test_a_wrong_variant_expected_says_which_one_was_kept(
    tmp_path: Path, dialogs: DialogSet
) -> None:
    path = tmp_path / "kept.yaml"
    path.write_text(
        "scenarios:\n  - name: kept\n    steps:\n      - pin: {menu_wording: short}\n"
        '      - start: ""\n      - expect: {variant: {menu_wording: warm}}\n',
        encoding="utf-8",
    )
    (scenario,) = load_checked_scripts([path], dialogs)
    result = await run_scenario(scenario, dialogs)
    assert not result.passed
    assert "experiment menu_wording: you have variant 'short', not 'warm'" in result.failure
    assert "-- me is shown variant short of menu_wording" in result.transcript


def test_the_commands_check_and_test_the_fixture() -> None:
    runner = CliRunner()
    checked = runner.invoke(main, ["check", str(VARIANTS)])
    assert checked.exit_code == 0, checked.output
    tested = runner.invoke(vie_test, ["--dialogs", str(VARIANTS)])
    assert tested.exit_code == 0, tested.output
    assert "4 scenarios: 4 passed" in tested.output


def test_a_state_pinned_by_hand_is_the_same_as_by_pin(dialogs: DialogSet) -> None:
    by_hand = evolve(new_state(1, "fr", NOW), vars={"variant:menu_wording": "short"})
    assert by_hand == pinned_state(dialogs, "short")
