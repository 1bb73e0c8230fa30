"""Scripted dialog tests in YAML: every shipped scenario passes on the bundled dialogs,
and the runner itself says where a script is wrong (before running it) and what was
seen when a step fails. Real SQLite files and the chat harness, no mocks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.app.test_command import test_command as vie_test
from bot.core.dialogset import DialogSet
from bot.testing.scenario_parse import load_checked_scripts, load_scripts, parse_script
from bot.testing.scenario_run import ScenarioResult, run_scenario
from bot.testing.scenarios import Scenario, ScriptError, check_against, discover, select

from .conftest import BUNDLED, MINI


def shipped() -> list[Scenario]:
    """The bundled scripts, read once at collection; a script that cannot be read fails
    test_the_shipped_scripts_are_well_formed rather than the collection."""
    try:
        return load_scripts(discover(BUNDLED))
    except ScriptError:
        return []


SCENARIOS = shipped()


def test_the_shipped_scripts_are_well_formed(bundled: DialogSet) -> None:
    scenarios = load_checked_scripts(discover(BUNDLED), bundled)
    assert len(scenarios) >= 34
    english = [s for s in scenarios if s.lang == "en"]
    assert len(english) >= 8 and len(scenarios) - len(english) >= 26


@pytest.mark.parametrize(
    "scenario", SCENARIOS, ids=[f"{Path(s.file).name}:{s.line}" for s in SCENARIOS]
)
async def test_shipped_scenario(scenario: Scenario, bundled: DialogSet) -> None:
    result = await run_scenario(scenario, bundled)
    if not result.passed:
        pytest.fail(result.failure, pytrace=False)


# -- the runner, on small scripts -----------------------------------------------------------
START = """\
scenarios:
  - name: {name}
    steps:
{steps}
"""


def script(tmp_path: Path, steps: str, name: str = "a try", file: str = "try.yaml") -> Path:
    path = tmp_path / file
    body = "\n".join("      " + line for line in steps.strip("\n").splitlines())
    path.write_text(START.format(name=name, steps=body), encoding="utf-8")
    return path


async def play(path: Path, dialogs: DialogSet) -> list[ScenarioResult]:
    return [await run_scenario(s, dialogs) for s in load_checked_scripts([path], dialogs)]


async def failure(tmp_path: Path, steps: str, dialogs: DialogSet) -> str:
    (result,) = await play(script(tmp_path, steps), dialogs)
    assert not result.passed, result.transcript
    return result.failure


def problems(tmp_path: Path, text: str, dialogs: DialogSet) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError) as caught:
        load_checked_scripts([path], dialogs)
    return str(caught.value)


async def test_a_passing_script_reports_its_name_file_and_line(
    tmp_path: Path, mini: DialogSet
) -> None:
    path = script(
        tmp_path,
        """
- start: ""
- expect: {text: ["Bonjour Alex", "par où commencer ?"], buttons: ["M'informer", "Au revoir"]}
- tap: inform
- expect: {text: "Qu'est-ce qui vous retient", at: informer.intro}
""",
        name="the menu leads to I",
    )
    (result,) = await play(path, mini)
    assert result.passed, result.failure
    assert (result.name, Path(result.file).name, result.line) == (
        "the menu leads to I",
        "try.yaml",
        2,
    )
    assert (
        "me > [M'informer]" in result.transcript
        and "Qu'est-ce qui vous retient" in result.transcript
    )


async def test_a_missing_text_names_the_step_and_shows_what_was_received(
    tmp_path: Path, mini: DialogSet
) -> None:
    text = await failure(tmp_path, '- start: ""\n- expect: {text: "Bonsoir"}', mini)
    assert "try.yaml:5: scenario 'a try', step 2 (expect: {text: \"Bonsoir\"})" in text
    assert "'Bonsoir' is not in what you received" in text
    assert "| Bonjour Alex" in text and "|   [1] M'informer" in text
    assert "buttons to tap now: [M'informer] [Au revoir]" in text


@pytest.mark.parametrize(
    ("check", "said"),
    [
        ('{no_text: "bonjour"}', "'bonjour' was said, and should not have been"),
        ('{buttons: ["Au revoir"]}', "the buttons should be [Au revoir]"),
        ('{button: "Retour"}', "no button 'Retour'"),
        ('{no_button: "revoir"}', "a button 'revoir' is offered"),
        ("{no_message: true}", "1 message(s) arrived where none was expected"),
        ("{nudge: true}", "no reminder arrived"),
        ('{file: "data.json"}', "no file named like 'data.json' was sent"),
        ("{stage_done: I}", "stage I is not done (done: none)"),
        ("{var: {worry: hidden}}", "var worry is not set, not 'hidden'"),
        ("{at: informer.intro}", "you are at welcome.menu, not informer.intro"),
        ("{at: informer}", "you are at welcome.menu, not informer"),
    ],
)
async def test_each_failed_check_says_what_it_expected(
    tmp_path: Path, mini: DialogSet, check: str, said: str
) -> None:
    text = await failure(tmp_path, f'- start: ""\n- expect: {check}', mini)
    assert "try.yaml:5:" in text and said in text
    assert "| Bonjour Alex" in text


async def test_state_checks_compare_values_and_stages(tmp_path: Path, mini: DialogSet) -> None:
    path = script(
        tmp_path,
        """
- start: ""
- tap: "M'informer"
- tap: "Vivre caché"
- tap: "Convaincu"
- expect: {stage_done: I, stage_not_done: [V, E], var: {worry: hidden, vip: null}, at: informer.done}
- expect: {var: {worry: "other"}}
""",
    )
    (result,) = await play(path, mini)
    assert "step 6" in result.failure and "var worry is 'hidden', not 'other'" in result.failure


async def test_a_button_that_is_not_there_lists_the_buttons(
    tmp_path: Path, mini: DialogSet
) -> None:
    text = await failure(tmp_path, '- start: ""\n- tap: "Oui"', mini)
    assert 'step 2 (tap: "Oui")' in text
    assert "no button 'Oui' among [M'informer] [Au revoir]" in text
    assert "| Bonjour Alex" in text, "what the person was looking at"


async def test_a_pressed_keyboard_is_gone_and_an_earlier_one_can_be_tapped(
    tmp_path: Path, mini: DialogSet
) -> None:
    text = await failure(tmp_path, '- start: ""\n- tap: "Au revoir"\n- tap: "Au revoir"', mini)
    assert "step 3" in text and "there is no button to tap" in text
    path = script(
        tmp_path,
        """
- start: ""
- say: "vie privée"
- tap_earlier: "Au revoir"
- expect: {text: "Ce bouton a expiré", at: informer.intro}
- tap_earlier: "Au revoir"
""",
    )
    (result,) = await play(path, mini)
    assert "step 5" in result.failure and "no earlier message still shows" in result.failure


async def test_an_expired_button_and_a_sticker(tmp_path: Path, mini: DialogSet) -> None:
    path = script(
        tmp_path,
        """
- start: ""
- tap_expired: "M'informer"
- expect: {text: "Ce bouton a expiré", at: welcome.menu}
- send: sticker
- expect: {text: "Je ne lis que le texte (sticker)"}
""",
    )
    (result,) = await play(path, mini)
    assert result.passed, result.failure


async def test_wait_delivers_a_reminder_when_due_and_not_before(
    tmp_path: Path, mini: DialogSet
) -> None:
    path = script(
        tmp_path,
        """
- start: ""
- tap: "M'informer"
- wait: 1d23h59m
- expect: {no_message: true, nudge: false}
- wait: 1m
- expect: {nudge: true, text: "On en reparle, Alex ?", buttons: [On reprend, Demain, Pas maintenant, Plus de rappels]}
- tap: "Plus de rappels"
- wait: 30d
- expect: {no_message: true}
""",
    )
    (result,) = await play(path, mini)
    assert result.passed, result.failure
    assert "now Wed 07 Jan 2026 10:00 UTC" in result.transcript


async def test_start_at_moves_the_clock_of_the_scenario(tmp_path: Path, mini: DialogSet) -> None:
    path = tmp_path / "night.yaml"
    path.write_text(
        """\
scenarios:
  - name: at night
    start_at: 2026-01-05 20:30
    steps:
      - start: ""
      - tap: "M'informer"
      - wait: 2d
      - expect: {no_message: true}
      - wait: 12h
      - expect: {nudge: true}
""",
        encoding="utf-8",
    )
    (result,) = await play(path, mini)
    assert result.passed, result.failure


async def test_two_people_share_one_clock_and_one_store(tmp_path: Path, mini: DialogSet) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(
        """\
scenarios:
  - name: Paul invites Zoé
    people: [paul, {name: zoe, first_name: Zoé, lang: en}]
    steps:
      - {as: paul, start: ""}
      - {as: paul, command: /invite Zoé}
      - {as: zoe, start: {invite_from: paul}}
      - {as: zoe, expect: {text: "A friend invited you", var: {invited: true, advocate_name: Paul}}}
      - {as: paul, expect: {text: "start="}}      # still what Paul last received
      - wait: 11m
      - {as: paul, expect: {text: "Zoé a ouvert votre invitation"}}
      - {as: zoe, expect: {no_text: "Zoé a ouvert"}}
      - {as: paul, command: /friends}
      - {as: paul, expect: {text: "Zoé"}}
      - {as: paul, expect: {text: "Personne"}}
""",
        encoding="utf-8",
    )
    (result,) = await play(path, mini)
    assert (
        "step 11" in result.failure and "paul received since their previous step" in result.failure
    )
    assert "zoe > /start " in result.transcript and "bot → paul (on its own)" in result.transcript


async def test_an_invitation_asked_for_before_any_link(tmp_path: Path, mini: DialogSet) -> None:
    path = tmp_path / "nolink.yaml"
    path.write_text(
        """\
scenarios:
  - name: no link yet
    people: [paul, zoe]
    steps:
      - {as: zoe, start: {invite_from: paul}}
""",
        encoding="utf-8",
    )
    (result,) = await play(path, mini)
    assert (
        "nolink.yaml:5" in result.failure
        and "paul was shown no invitation link yet" in result.failure
    )


# -- scripts refused before anything runs ---------------------------------------------------
@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("scenarios: [\n", "bad.yaml:2: YAML syntax"),
        ("steps: []\n", "bad.yaml:1: a test script starts with `scenarios:`"),
        (
            "scenarios:\n  - name: x\n    steps:\n      - tapp: Oui\n",
            "bad.yaml:4: scenario 'x', step 1: unknown step 'tapp' (did you mean 'tap'?)",
        ),
        (
            "scenarios:\n  - name: x\n    steps:\n      - wait: 2 days\n",
            "bad.yaml:4: scenario 'x', step 1: invalid duration '2 days'",
        ),
        (
            "scenarios:\n  - name: x\n    steps:\n      - wait: 2\n",
            "bad.yaml:4: scenario 'x', step 1: `wait` takes a duration with its unit",
        ),
        (
            "scenarios:\n  - name: x\n    steps:\n      - {say: hi, tap: Oui}\n",
            "bad.yaml:4: scenario 'x', step 1: say and tap together",
        ),
        (
            "scenarios:\n  - name: x\n    steps:\n      - tap: no\n",
            "`tap: False`: YAML reads yes, no",
        ),
        (
            "scenarios:\n  - name: x\n    steps:\n      - command: progress\n",
            "a command starts with /",
        ),
        (
            "scenarios:\n  - name: x\n    steps:\n      - {as: anna, say: hi}\n",
            "bad.yaml:4: scenario 'x', step 1: `as: anna` names nobody of `people:` (me)",
        ),
        (
            "scenarios:\n  - name: x\n    steps:\n      - expect: {txt: hi}\n",
            "bad.yaml:4: scenario 'x', step 1, expect: unknown key 'txt' (did you mean 'text'?)",
        ),
        (
            "scenarios:\n  - name: x\n    steps:\n      - expect: {no_message: true, text: hi}\n",
            "contradicts",
        ),
        (
            "scenarios:\n  - name: x\n    start_at: soon\n    steps:\n      - say: hi\n",
            "bad.yaml:3: scenario 'x': start_at 'soon' is not a moment",
        ),
        (
            "scenarios:\n  - name: x\n    steps: []\n",
            "bad.yaml:3: scenario 'x': `steps:` must be a list of steps",
        ),
        ("scenarios:\n  - steps:\n      - say: hi\n", "bad.yaml:2: a scenario needs a `name:`"),
        (
            "scenarios:\n  - name: x\n    steps:\n      - say: hi\n  - name: x\n    steps:\n      - say: ho\n",
            "bad.yaml:5: scenario 'x': already on line 2",
        ),
        (
            "scenarios:\n  - name: x\n    lang: de\n    steps:\n      - say: hi\n",
            "bad.yaml:2: scenario 'x': lang 'de' is not one of the dialogs' languages (fr, en)",
        ),
        (
            "scenarios:\n  - name: x\n    steps:\n      - expect: {at: informer.nowhere}\n",
            "bad.yaml:4: scenario 'x', step 1: `at: informer.nowhere` is no node of the dialogs",
        ),
        (
            "scenarios:\n  - name: x\n    steps:\n      - expect: {var: {colour: red}}\n",
            "no dialog sets a variable 'colour'",
        ),
        (
            "scenarios:\n  - name: x\n    steps:\n      - expect: {stage_done: Z}\n",
            "no stage 'Z' in the dialogs (V, I, E)",
        ),
    ],
)
def test_a_bad_script_is_refused_with_its_line(
    tmp_path: Path, bundled: DialogSet, text: str, said: str
) -> None:
    assert said in problems(tmp_path, text, bundled)


def test_every_problem_of_every_file_is_listed_at_once(tmp_path: Path, mini: DialogSet) -> None:
    text = "scenarios:\n  - name: x\n    steps:\n      - tapp: a\n      - wait: soon\n      - send: fax\n"
    found, wrong = parse_script(text, "many.yaml")
    assert [p.line for p in wrong] == [4, 5, 6] and found[0].steps == ()
    assert "`send` is one of sticker, photo" in str(wrong[2])


def test_select_keeps_the_scenarios_whose_name_has_the_text(
    tmp_path: Path, mini: DialogSet
) -> None:
    text = "scenarios:\n  - name: Le Temps\n    steps: [{say: a}]\n  - name: autre\n    steps: [{say: b}]\n"
    found, _ = parse_script(text, "k.yaml")
    assert [s.name for s in select(found, "temps")] == ["Le Temps"]
    assert check_against(found, mini) == []


# -- vie-coach test ---------------------------------------------------------------------------
def folder(tmp_path: Path, *scripts: tuple[str, str]) -> Path:
    """A dialog folder (the mini dialogs) with these scripts in tests/journeys/."""
    target = tmp_path / "dialogs"
    shutil.copytree(MINI, target)
    journeys = target / "tests" / "journeys"
    journeys.mkdir(parents=True)
    for name, text in scripts:
        (journeys / name).write_text(text, encoding="utf-8")
    return target


GOOD = """\
scenarios:
  - name: the menu leads to I
    steps:
      - start: ""
      - tap: "M'informer"
      - expect: {at: informer.intro}
  - name: goodbye ends it
    steps:
      - start: ""
      - tap: "Au revoir"
      - expect: {text: "À bientôt"}
"""


def test_the_command_runs_the_folder_scripts_and_exits_0(tmp_path: Path) -> None:
    dialogs = folder(tmp_path, ("menu.yaml", GOOD))
    result = CliRunner().invoke(vie_test, ["--dialogs", str(dialogs)])
    assert result.exit_code == 0, result.output
    assert "ok   menu.yaml:2 the menu leads to I" in result.output
    assert "ok   menu.yaml:7 goodbye ends it" in result.output
    assert "2 scenarios: 2 passed" in result.output


def test_the_command_exits_1_on_a_failure_and_shows_it(tmp_path: Path) -> None:
    dialogs = folder(tmp_path, ("menu.yaml", GOOD.replace("À bientôt", "Adieu")))
    result = CliRunner().invoke(vie_test, ["--dialogs", str(dialogs)])
    assert result.exit_code == 1, result.output
    assert "FAIL menu.yaml:7 goodbye ends it" in result.output
    assert "menu.yaml:11: scenario 'goodbye ends it', step 3" in result.output
    assert (
        "'Adieu' is not in what you received" in result.output and "| À bientôt." in result.output
    )
    assert "2 scenarios: 1 passed, 1 failed" in result.output


def test_the_command_exits_2_on_a_bad_script_and_runs_nothing(tmp_path: Path) -> None:
    dialogs = folder(tmp_path, ("menu.yaml", GOOD), ("bad.yaml", GOOD.replace("tap:", "tapp:", 1)))
    result = CliRunner().invoke(vie_test, ["--dialogs", str(dialogs)])
    assert result.exit_code == 2, result.output
    assert (
        "bad.yaml:5: scenario 'the menu leads to I', step 2: unknown step 'tapp'" in result.output
    )
    assert "nothing was run" in result.output and "ok " not in result.output


def test_the_command_takes_files_and_a_name_filter(tmp_path: Path) -> None:
    dialogs = folder(tmp_path)
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(vie_test, ["--dialogs", str(dialogs), str(path), "-k", "GOODBYE"])
    assert result.exit_code == 0, result.output
    assert "goodbye ends it" in result.output and "leads to I" not in result.output
    assert "1 scenario (-k 'GOODBYE': 1 left out): 1 passed" in result.output
    result = runner.invoke(vie_test, ["--dialogs", str(dialogs), str(path), "-k", "nothing"])
    assert result.exit_code == 2 and "no scenario's name has 'nothing'" in result.output
    result = runner.invoke(vie_test, ["--dialogs", str(dialogs)])
    assert result.exit_code == 2 and "no test script in" in result.output
    result = runner.invoke(vie_test, ["--dialogs", str(dialogs), str(path), "--transcript"])
    assert "     · me > [M'informer]" in result.output


def test_the_command_exits_3_when_the_dialogs_have_errors(tmp_path: Path) -> None:
    dialogs = folder(tmp_path, ("menu.yaml", GOOD))
    (dialogs / "welcome.yaml").write_text("flow: welcome\n", encoding="utf-8")
    result = CliRunner().invoke(vie_test, ["--dialogs", str(dialogs)])
    assert result.exit_code == 3, result.output
    assert "error(s) in the dialogs" in result.output and "fix the dialogs first" in result.output


async def test_a_file_language_and_who_expects(tmp_path: Path, mini: DialogSet) -> None:
    text = """\
lang: en
scenarios:
  - name: both in English
    people: [paul, {name: zoe, lang: fr}]
    steps:
      - {as: zoe, start: ""}
      - expect: {as: zoe, text: "Bonjour Zoe"}
      - {as: paul, start: ""}
      - expect: {text: "Hello Paul"}
"""
    (found,), wrong = parse_script(text, "lang.yaml")
    assert wrong == [] and found.lang == "en" and found.people[1].lang == "fr"
    path = tmp_path / "lang.yaml"
    path.write_text(text, encoding="utf-8")
    (result,) = await play(path, mini)
    assert result.passed, result.failure
