"""One test per kind of authoring mistake, each asserting the reported file:line and node."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app.bootstrap import standard_features
from bot.core.dialogset import DialogSet
from bot.dialogs.load import check_directory, load_dialogs
from bot.errors import DialogError, Problem

from .conftest import LANGS, MINI, ROOT


def broken(tmp_path: Path, file: str, old: str, new: str) -> Path:
    """A copy of the mini dialog set with one edit."""
    folder = tmp_path / "dialogs"
    shutil.copytree(MINI, folder)
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture changed: {old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def errors(folder: Path) -> list[Problem]:
    dialogs, problems = check_directory(folder, LANGS, "welcome", standard_features())
    found = [p for p in problems if p.severity == "error"]
    assert dialogs is None and found, "the broken set must be refused"
    return found


def one(folder: Path, fragment: str) -> Problem:
    found = [p for p in errors(folder) if fragment in p.message]
    assert found, f"no problem mentioning {fragment!r}: {errors(folder)}"
    return found[0]


def line_of(folder: Path, file: str, needle: str) -> int:
    lines = (folder / file).read_text(encoding="utf-8").splitlines()
    return next(i for i, text in enumerate(lines, start=1) if needle in text)


def test_bundled_and_fixture_sets_are_valid() -> None:
    for folder in (MINI, ROOT / "dialogs"):
        dialogs, problems = check_directory(folder, LANGS, "welcome", standard_features())
        assert dialogs is not None, "\n".join(map(str, problems))


def test_yaml_syntax_error(tmp_path: Path) -> None:
    folder = broken(tmp_path, "informer.yaml", "    buttons:\n", "    buttons: [\n")
    p = one(folder, "YAML syntax")
    assert p.file.endswith("informer.yaml") and p.line > 0


def test_duplicate_yaml_key(tmp_path: Path) -> None:
    folder = broken(tmp_path, "informer.yaml", "  done:\n", "  hidden:\n")
    p = one(folder, "duplicate key")
    lines = (folder / "informer.yaml").read_text().splitlines()
    second = [i for i, text in enumerate(lines, start=1) if text == "  hidden:"][1]
    assert p.line == second and "first on line" in p.message


def test_unknown_key_names_line_node_and_suggestion(tmp_path: Path) -> None:
    folder = broken(
        tmp_path,
        "informer.yaml",
        "    milestone: i_hidden",
        "    milestone: i_hidden\n    buttonz: []",
    )
    p = one(folder, "unknown key 'buttonz'")
    assert (p.line, p.node) == (line_of(folder, "informer.yaml", "buttonz"), "hidden")
    assert "did you mean 'buttons'" in p.message
    assert str(p).startswith(f"{p.file}:{p.line}: node 'hidden':")


def test_wrong_type(tmp_path: Path) -> None:
    folder = broken(tmp_path, "informer.yaml", "    completes: true", "    completes: yes please")
    p = one(folder, "expected boolean")
    assert (p.line, p.node) == (line_of(folder, "informer.yaml", "completes:"), "done")


def test_missing_translation(tmp_path: Path) -> None:
    folder = broken(tmp_path, "welcome.yaml", ', en: "See you."}', "}")
    p = one(folder, "missing translation 'en'")
    assert (p.line, p.node) == (line_of(folder, "welcome.yaml", "À bientôt"), "bye")


def test_unknown_language(tmp_path: Path) -> None:
    folder = broken(
        tmp_path, "welcome.yaml", ', en: "See you."}', ', en: "See you.", de: "Tschüss"}'
    )
    assert one(folder, "unknown language 'de'").node == "bye"


def test_missing_start_node(tmp_path: Path) -> None:
    folder = broken(tmp_path, "informer.yaml", "start: intro", "start: beginning")
    p = one(folder, "start node 'beginning'")
    assert p.line == line_of(folder, "informer.yaml", "start: beginning")


def test_duplicate_flow_id(tmp_path: Path) -> None:
    folder = broken(tmp_path, "informer.yaml", "flow: informer", "flow: welcome")
    p = one(folder, "duplicate flow id 'welcome'")
    assert p.file.endswith("welcome.yaml") and p.line == 1  # files are read in name order
    assert "first in" in p.message and "informer.yaml" in p.message


def test_duplicate_button_id(tmp_path: Path) -> None:
    folder = broken(tmp_path, "informer.yaml", "{id: back,", "{id: hidden,")
    p = one(folder, "duplicate button id 'hidden'")
    assert (p.line, p.node) == (line_of(folder, "informer.yaml", "Retour"), "intro")


def test_dangling_target_in_same_flow(tmp_path: Path) -> None:
    folder = broken(tmp_path, "informer.yaml", "goto: done}", "goto: finished}")
    p = one(folder, "unknown node 'informer.finished'")
    assert (p.line, p.node) == (line_of(folder, "informer.yaml", "finished"), "hidden")


def test_dangling_target_across_flows(tmp_path: Path) -> None:
    folder = broken(tmp_path, "welcome.yaml", "goto: informer.intro}", "goto: eduquer.intro}")
    p = one(folder, "unknown flow 'eduquer'")
    assert (p.line, p.node) == (line_of(folder, "welcome.yaml", "eduquer.intro"), "menu")


def test_unreachable_node(tmp_path: Path) -> None:
    folder = broken(
        tmp_path,
        "informer.yaml",
        "  done:\n",
        "  orphan:\n    say: {fr: a, en: b}\n    end: true\n  done:\n",
    )
    p = one(folder, "unreachable")
    assert (p.line, p.node) == (line_of(folder, "informer.yaml", "orphan:"), "orphan")


def test_dead_end(tmp_path: Path) -> None:
    folder = broken(tmp_path, "welcome.yaml", "    end: true\n", "")
    p = one(folder, "dead end")
    assert (p.line, p.node) == (line_of(folder, "welcome.yaml", "  bye:"), "bye")


def test_goto_loop(tmp_path: Path) -> None:
    folder = broken(tmp_path, "welcome.yaml", "    goto: menu\n", "    goto: start\n")
    p = one(folder, "'goto' loop")
    assert p.node == "start"


def test_goto_list_needs_an_otherwise(tmp_path: Path) -> None:
    folder = broken(
        tmp_path, "welcome.yaml", "      - {goto: menu}", '      - {if: "vars.vip", goto: menu}'
    )
    p = one(folder, "last arm")
    assert (p.line, p.node) == (line_of(folder, "welcome.yaml", '{if: "vars.vip"'), "start")


def test_jinja_syntax_error(tmp_path: Path) -> None:
    folder = broken(
        tmp_path,
        "informer.yaml",
        "Je comprends ({{ vars.worry }})",
        "Je comprends ({{ vars.worry )",
    )
    p = one(folder, "template syntax error")
    assert (p.line, p.node) == (line_of(folder, "informer.yaml", "Je comprends"), "hidden")
    assert "say.fr" in p.message


def test_unknown_variable(tmp_path: Path) -> None:
    folder = broken(
        tmp_path,
        "informer.yaml",
        "I understand ({{ vars.worry }})",
        "I understand ({{ vars.wory }} {{ mood }})",
    )
    found = [p for p in errors(folder) if "unknown variable" in p.message]
    assert {p.message.split(": ", 1)[1] for p in found} == {
        "unknown variable 'mood'",
        "unknown variable 'vars.wory' (no 'set:' defines it)",
    }
    assert all(p.line == line_of(folder, "informer.yaml", "I understand") for p in found)


def test_unknown_variable_in_condition(tmp_path: Path) -> None:
    folder = broken(tmp_path, "welcome.yaml", 'when: "vars.vip"', 'when: "vars.vipp and"')
    assert one(folder, "condition").node == "menu"


def test_button_data_over_64_bytes(tmp_path: Path) -> None:
    long_id = "b" + "x" * 29
    folder = broken(tmp_path, "welcome.yaml", "{id: bye,", f"{{id: {long_id},")
    folder_text = (folder / "welcome.yaml").read_text()
    (folder / "welcome.yaml").write_text(
        folder_text.replace("  menu:", "  menu_with_a_rather_long_node_id:").replace(
            "goto: menu", "goto: menu_with_a_rather_long_node_id"
        )
    )
    (folder / "informer.yaml").write_text(
        (folder / "informer.yaml")
        .read_text()
        .replace("welcome.menu", "welcome.menu_with_a_rather_long_node_id")
    )
    p = one(folder, "bytes")
    assert p.node == "menu_with_a_rather_long_node_id" and "64" in p.message


def test_text_that_can_render_over_4096(tmp_path: Path) -> None:
    loop = "{% for i in range(100) %}" + "x" * 100 + "{% endfor %}"
    folder = broken(
        tmp_path, "welcome.yaml", '"À bientôt."', '"' + "y" * 4040 + '{{ user.first_name }}"'
    )
    p = one(folder, "can render up to")
    assert (p.node, p.line) == ("bye", line_of(folder, "welcome.yaml", "yyyy"))
    folder2 = broken(tmp_path / "2", "welcome.yaml", '"À bientôt."', f'"{loop}"')
    assert one(folder2, "can render up to").node == "bye"


def test_longest_branch_counts(tmp_path: Path) -> None:
    text = '"{% if vars.vip %}' + "a" * 4000 + "{% else %}" + "b" * 200 + '{% endif %}"'
    folder = broken(tmp_path, "welcome.yaml", '"À bientôt."', text)
    dialogs, _ = check_directory(folder, LANGS, "welcome", standard_features())
    assert dialogs is not None  # 4000 fits
    folder2 = broken(
        tmp_path / "2", "welcome.yaml", '"À bientôt."', text.replace("a" * 4000, "a" * 4100)
    )
    assert one(folder2, "can render up to").node == "bye"


def test_unknown_fact(tmp_path: Path) -> None:
    folder = broken(tmp_path, "informer.yaml", "fact: known_99", "fact: known_100")
    p = one(folder, "unknown fact 'known_100'")
    assert (p.line, p.node) == (line_of(folder, "informer.yaml", "fact: known_100"), "hidden")


def test_fact_without_year(tmp_path: Path) -> None:
    folder = broken(tmp_path, "facts.yaml", "    year: 2013\n", "")
    p = one(folder, "missing key 'year'")
    assert p.file.endswith("facts.yaml") and p.line == line_of(folder, "facts.yaml", "known_99")


def test_missing_bot_message(tmp_path: Path) -> None:
    folder = broken(tmp_path, "messages.yaml", "  welcome_back:", "  welcome_bak:")
    assert one(folder, "missing bot message 'welcome_back'").file.endswith("messages.yaml")
    _, problems = check_directory(folder, LANGS, "welcome", standard_features())
    assert any(p.severity == "warning" and "welcome_bak" in p.message for p in problems)


def test_not_a_dialog_file(tmp_path: Path) -> None:
    folder = broken(tmp_path, "facts.yaml", "facts:", "fakts:")
    assert "not a dialog file" in one(folder, "not a dialog file").message


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    folder = broken(tmp_path, "informer.yaml", "goto: done}", "goto: nowhere}")
    text = (
        (folder / "welcome.yaml")
        .read_text()
        .replace("    end: true\n", "")
        .replace("buttons:", "buttonz:", 1)
    )
    (folder / "welcome.yaml").write_text(text)
    messages = " | ".join(p.message for p in errors(folder))
    assert "unknown node 'informer.nowhere'" in messages and "unknown key 'buttonz'" in messages


def test_load_dialogs_raises_one_error_listing_everything(tmp_path: Path) -> None:
    folder = broken(tmp_path, "informer.yaml", "goto: done}", "goto: nowhere}")
    with pytest.raises(DialogError) as caught:
        load_dialogs(folder, LANGS, "welcome", standard_features())
    assert "informer.yaml" in str(caught.value) and caught.value.problems


def test_missing_folder(tmp_path: Path) -> None:
    assert "no such dialog folder" in errors(tmp_path / "nope")[0].message


def test_check_command_exit_codes(tmp_path: Path) -> None:
    exe = [sys.executable, "-m", "bot.app.cli", "check"]
    ok = subprocess.run([*exe, str(MINI)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and ok.stdout.splitlines()[-1].startswith("ok: 2 flows")
    # an old fact is a warning: reported with its line, the set still loads
    assert "facts.yaml:2: [warning] fact 'known_99' dates from 2013" in ok.stdout
    folder = broken(tmp_path, "informer.yaml", "goto: done}", "goto: nowhere}")
    bad = subprocess.run([*exe, str(folder)], capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert "informer.yaml:" in bad.stderr and "node 'hidden'" in bad.stderr


def test_flow_level_rule_with_a_dangling_target(tmp_path: Path) -> None:
    rule = "on_text:\n  - {match: {fr: [aide], en: [help]}, goto: nowhere}\nnodes:"
    folder = broken(tmp_path, "informer.yaml", "nodes:", rule)
    p = one(folder, "flow-level on_text rule leads to unknown node 'informer.nowhere'")
    assert p.file.endswith("informer.yaml") and p.line == line_of(
        folder, "informer.yaml", "nowhere"
    )


def test_nudge_with_a_bad_delay_and_an_unknown_variable(tmp_path: Path) -> None:
    folder = broken(tmp_path, "informer.yaml", "{after: 2d,", "{after: 2 days,")
    p = one(folder, "is not a duration")
    assert (p.node, p.line) == ("intro", line_of(folder, "informer.yaml", "2 days"))
    folder2 = broken(
        tmp_path / "2", "informer.yaml", "Dernier petit signe.", "Signe {{ vars.nope }}"
    )
    assert one(folder2, "nudge say.fr: unknown variable 'vars.nope'").node == "intro"


def test_nudges_on_a_node_that_never_waits(tmp_path: Path) -> None:
    folder = broken(
        tmp_path,
        "welcome.yaml",
        "    goto: menu\n",
        "    goto: menu\n    nudges:\n      - {after: 1d, say: {fr: a, en: b}}\n",
    )
    p = one(folder, "never sent")
    assert p.node == "invited"


def test_stale_facts_are_warned_about_by_age(mini: DialogSet) -> None:
    from bot.dialogs.checks import stale_facts

    (fact,) = mini.facts.values()
    assert stale_facts(mini, fact.year + 5, 5) == []
    (warning,) = stale_facts(mini, fact.year + 6, 5)
    assert warning.severity == "warning" and warning.line == fact.line
    assert f"dates from {fact.year}, more than 5 years ago" in warning.message
