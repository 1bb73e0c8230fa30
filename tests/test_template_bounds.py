"""Templates whose work cannot be bounded are refused: by the checker, naming the file,
line, node and construct with what to write instead; and again while rendering."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.app.bootstrap import standard_features
from bot.core.render import MAX_BUILT, Renderer, RenderError, visible_length
from bot.dialogs import templates
from bot.dialogs.bounds import stage_totals, value_lengths
from bot.dialogs.load import check_directory, load_dialogs

from .conftest import LANGS, ROOT
from .test_checker import broken, errors, line_of, one

RENDERER = Renderer()
TOTALS = {"V": 5, "I": 7, "E": 9}
TABLE = templates.Table(value_lengths({"stars": 1, "n": 2, "vip": 5}, [], TOTALS))


def refusals(source: str) -> tuple[str, ...]:
    return templates.analyse(RENDERER.env.parse(source), TABLE, RENDERER.env.filters).refusals


# (template, a fragment of the refusal): the attacks, and the careless mistakes
REFUSED = [
    ("{{ 'a' * 2000000000 }}", "{{ 'a' * 2000000000 }} builds a value of up to 2,000,000,000"),
    ("{{ 'ab' * n }}", "{{ 'ab' * n }} repeats a value a number of times the checker cannot"),
    ("{{ 'ab' * user.first_name }}", "cannot bound"),
    ("{{ 'x' * 10 ** 9 }}", "{{ 'x' * 10 ** 9 }} builds a value of up to 1,000,000,000"),
    ("{{ 'x' * (user.first_name|int) }}", "a number of times the checker cannot bound"),
    ("{{ 'x' * ('1e9'|int) }}", "a number of times the checker cannot bound"),
    ("{{ (10 ** 20) * 'x' }}", "cannot bound"),
    ("{{ ('a' * 99999999) | length }}", "{{ 'a' * 99999999 }} builds a value of up to"),
    ("{{ ['a'] * 10 ** 6 }}", "builds a value of up to"),
    ("{{ range(100000)|join('x' * 1000) }}", "join fewer items, or with a shorter separator"),
    ("{{ ('ab' * 1000)|list|join('x' * 1000) }}", "builds a value of up to"),
    (
        "{% set s = 'a' * 9 %}{% set s = s * s|length %}{% set s = s * s|length %}"
        "{% set s = s * s|length %}{{ s|length }}",
        "{{ s * s|length }} builds a value of up to 43,046,721 characters",
    ),
    ("{{ 2 ** vars.n ** vars.n }}", "makes a number of up to"),
    ("{{ 9 ** (9 ** 9) }}", "makes a number of up to 1,549,681,956 bits"),
    ("{{ 2 ** user.first_name }}", "makes a number of up to"),
    ("{{ 2 ** (user.first_name|int) }}", "raises to a power the checker cannot bound"),
    ("{% for i in range(10**9) %}{% endfor %}", "{{ range(10 ** 9) }} counts up to 1,000,000,000"),
    ("{% for i in range(user.first_name|int) %}x{% endfor %}", "counts to a number the checker"),
    (
        "{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}",
        "{% for i in range(1000) %} takes up to 1,004,003 steps to render",
    ),
    ("{% for i in range(99999) %}{{ 'ab' ~ i }}{% endfor %}", "steps to render"),
    ("{% for c in 'x' * 999 %}{% for d in 'x' * 999 %}{% endfor %}{% endfor %}", "steps"),
    ("{% for x in nothing_known %}x{% endfor %}", "loops over a list of unknown size"),
    ("{% for x in y recursive %}{{ loop(x) }}{% endfor %}", "{% for x in y recursive %}"),
    ("{{ '%s' % ('a' * 10 ** 8) }}", "{{ 'a' * 10 ** 8 }} builds a value"),
    ("{{ '%999999999s' % 'x' }}", "pads to 999,999,999 characters"),
    ("{{ '%*s' % (999999999, 'x') }}", "takes a width from its values"),
    ("{{ user.first_name % 1 }}", "formats with user.first_name, a text the checker cannot read"),
    ("{{ vars.n % 2 }}", "for a remainder, make it a number first: (x|int) % 2"),
    ("{{ '%999999999d'|format(1) }}", "pads to 999,999,999 characters"),
    ("{{ user.first_name|format(1) }}", "a text the checker cannot read"),
    ("{{ '{:>999999999}'.format('x') }}", "calls the method format()"),
    ("{{ 'x'.center(10**9) }}", "pad with the center filter and a literal width"),
    ("{{ 'x'|center(10**9) }}", "{{ 'x'|center(10 ** 9) }} pads to up to 1,000,000,000"),
    ("{{ 'x'|center(user.first_name) }}", "pads to a width the checker cannot bound"),
    ("{{ 'x'.ljust(10**9) }}", "calls the method ljust()"),
    ("{{ user.first_name|indent(10**9) }}", "indents to up to 1,000,000,000 characters"),
    ("{{ user.first_name|wordwrap(10**9) }}", "wraps to up to 1,000,000,000 characters"),
    ("{{ ('a' * 9999)|wordwrap(1, wrapstring='x' * 99) }}", "wrap with a shorter wrapstring"),
    ("{% filter center(10**9) %}x{% endfilter %}", "{% filter center(10 ** 9) %} pads"),
    ("{% set x | indent(10**9) %}x{% endset %}", "indents to up to"),
    ("{% with w = 10**9 %}{{ 'x'|center(w) }}{% endwith %}", "pads to up to 1,000,000,000"),
    ("{{ [1]|batch(10**9, 0)|list }}", "makes 1,000,000,000 items or batches"),
    ("{{ [1]|slice(10**9)|list }}", "makes 1,000,000,000 items or batches"),
    ("{{ [1]|batch(linecount=10**9)|list }}", "makes 1,000,000,000 items or batches"),
    ("{{ 'x'|center(width=10**9) }}", "pads to up to 1,000,000,000 characters"),
    ("{{ [1]|tojson(indent=10**9) }}", "indents JSON"),
    ("{{ ('ab' * 99).replace('', 'x' * 999) }}", "replace with a shorter text"),
    ("{{ 'ab'|replace('', 'x' * 99999) }}", "replace with a shorter text"),
    ("{{ [[1]] * 9|sum(start=[]) }}", "adds up lists or texts from 'start'"),
    ("{{ ('a' * 50000) ~ ('b' * 50001) }}", "builds a value of up to 100,001 characters"),
    ("{{ user.first_name is odd }}", "write user.first_name|int is odd"),
    ("{{ vars.n is divisibleby 3 }}", "needs a number"),
    ("{{ [user.first_name]|select('even')|list }}", "applies 'even' to items"),
    ("{{ [1]|map('center', 10**9)|list }}", "applies a filter the checker cannot follow"),
    ("{{ lipsum(10**6) }}", "calls lipsum(), which dialog texts may not call"),
    (
        "{% set ns = namespace(s='a') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}",
        "a namespace's values can grow at each turn of a loop",
    ),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "{% macro %} is not allowed"),
    ("{% include 'x' %}", "{% include %} is not allowed in dialog texts"),
    ("{{ [1, 2].append(3) }}", "calls the method append()"),
    ("{{ x|frobnicate }}", "uses the filter 'frobnicate', which Jinja2 does not have"),
    ("{{ range(*[10**9]) }}", "passes *args or **kwargs"),
]


@pytest.mark.parametrize(("source", "fragment"), REFUSED)
def test_unbounded_work_is_refused(source: str, fragment: str) -> None:
    found = refusals(source)
    assert any(fragment in r for r in found), found
    assert all("(template line 1)" in r for r in found)


ACCEPTED = [
    "{{ '★' * 3 }}",
    "{{ 3 * '★' }}",
    "{{ '★' * vars.stars }}",  # a variable some `set:` gives one digit
    "{{ '●' * progress.V.reached }}{{ '○' * (progress.V.total - progress.V.reached) }}",
    "{% for s in stages %}{{ '●' * s.reached }}{{ '○' * (s.total - s.reached) }}{% endfor %}",
    "{% for s in stages %}{{ s.code }} {{ s.reached }}/{{ s.total }}{% if not loop.last %}, "
    "{% endif %}{% endfor %}",
    "{% for i in range(5) %}{{ loop.index }}{% if loop.index is even %}!{% endif %}{% endfor %}",
    "{% set sep = joiner(', ') %}{% for s in stages %}{{ sep() }}{{ s.code }}{% endfor %}",
    "{{ user.first_name|upper|center(20) }} {{ user.first_name|truncate(10) }}",
    "{{ '%s, %s!' % ('Bonjour', user.first_name) }} {{ '%5s'|format(vars.n) }}",
    "{{ vars.n|int is odd }} {{ (vars.n|int) % 2 }} {{ 2 ** 10 }}",
    "{{ user.first_name.strip().title() ~ ', '.join(['a', 'b']) }}",
    "{{ 'x' * (5 // 2) }}{{ 'x' * (7 % 3) }}{{ 'x' * -3 }}{{ 'x' * (3 if vars.vip else 4) }}",
    "{% set s = 'ab' * 3 %}{{ s * 2 }}{{ s|length }}",
    "{{ 'a' * (user.first_name|length) }}",
    "{{ vars.n|default('none') }} {{ [1, 2, 3]|join(', ') }} {{ 'abc'|list|join('-') }}",
]


@pytest.mark.parametrize("source", ACCEPTED)
def test_bounded_templates_pass(source: str) -> None:
    assert refusals(source) == ()


def test_a_progress_bar_counts_its_stage_total_once() -> None:
    bar = "{{ '●' * progress.E.reached }}{{ '○' * (progress.E.total - progress.E.reached) }}"
    assert templates.max_length(RENDERER.env.parse(bar), TABLE) == TOTALS["E"]


def test_the_bundled_progress_message_stays_within_its_bound() -> None:
    """Rendered with every stage at its extremes, it never exceeds what the checker says."""
    dialogs = load_dialogs(ROOT / "dialogs", LANGS, "welcome", standard_features())
    totals = stage_totals(dialogs.flows.values())
    table = templates.Table(value_lengths({}, [], totals))
    for lang in LANGS:
        source = dialogs.messages["progress"][lang]
        bound = templates.max_length(RENDERER.env.parse(source), table)
        for reached in (0, 1, None):
            stages = [
                {"code": s, "name": "n" * 64, "total": totals[s], "done": False,
                 "reached": totals[s] if reached is None else min(reached, totals[s])}
                for s in totals
            ]  # fmt: skip
            assert visible_length(RENDERER.render(source, {"stages": stages})) <= bound


# -- through `vie-coach check`: file, line, node, and where in the template --------------------
def test_a_huge_repetition_in_a_node_text(tmp_path: Path) -> None:
    folder = broken(tmp_path, "welcome.yaml", '"À bientôt."', "\"{{ 'a' * 2000000000 }}\"")
    p = one(folder, "builds a value of up to 2,000,000,000 characters")
    assert (p.node, p.line) == ("bye", line_of(folder, "welcome.yaml", "2000000000"))
    assert p.message.startswith("say.fr: {{ 'a' * 2000000000 }} builds")
    assert "(template line 1)" in p.message and "{{ '★' * 3 }}" in p.message
    assert not [e for e in errors(folder) if "can render up to" in e.message]  # said once


def test_a_loop_over_a_huge_range_in_a_nudge(tmp_path: Path) -> None:
    folder = broken(tmp_path, "informer.yaml", '"Dernier petit signe."',
                    '"{% for i in range(10**9) %}{% endfor %}"')  # fmt: skip
    p = one(folder, "counts up to 1,000,000,000 numbers")
    assert p.node == "intro" and p.line == line_of(folder, "informer.yaml", "range(10**9)")
    assert p.message.startswith("nudge say.fr: {{ range(10 ** 9) }} counts up to")


def test_a_condition_that_builds_a_huge_text(tmp_path: Path) -> None:
    folder = broken(
        tmp_path, "welcome.yaml", 'when: "vars.vip"', "when: \"('a' * 10 ** 9)|length > 3\""
    )
    p = one(folder, "builds a value of up to 1,000,000,000 characters")
    assert p.node == "menu" and p.message.startswith("button 'secret': condition ")


def test_a_bot_message_that_pads_to_a_huge_width(tmp_path: Path) -> None:
    folder = broken(tmp_path, "messages.yaml", '"Je ne parle qu\'en privé."',
                    "\"{{ 'x'|center(10 ** 9) }}\"")  # fmt: skip
    p = one(folder, "pads to up to 1,000,000,000 characters")
    assert p.file.endswith("messages.yaml") and p.node is None
    assert p.line == line_of(folder, "messages.yaml", "center(10 ** 9)")
    assert p.message.startswith("message 'group_only'.fr: {{ 'x'|center(10 ** 9) }} pads")


def test_a_reply_with_a_user_controlled_format(tmp_path: Path) -> None:
    folder = broken(
        tmp_path,
        "welcome.yaml",
        '{match: {fr: [info, "vie privée"], en: [info, privacy]}, goto: informer.intro}',
        '{match: {fr: [info], en: [info]}, say: {fr: "{{ user.first_name % 1 }}", en: "x"}}',
    )
    p = one(folder, "a text the checker cannot read")
    assert p.node == "menu" and p.message.startswith("on_text say.fr: {{ user.first_name % 1 }}")


def test_a_text_nested_too_deeply_is_refused_not_a_crash(tmp_path: Path) -> None:
    deep = '"{{ 1' + " + 1" * 3000 + ' }}"'
    folder = broken(tmp_path, "welcome.yaml", '"À bientôt."', deep)
    assert one(folder, "nests too deeply").node == "bye"


def test_a_width_of_thousands_of_digits(tmp_path: Path) -> None:
    assert any("pads to" in r for r in refusals("{{ '%" + "9" * 5000 + "s' % 1 }}"))
    with pytest.raises(RenderError):
        Renderer().render("{{ '%" + "9" * 5000 + "s' % 1 }}", {})


def test_range_of_a_small_number_is_a_known_name(tmp_path: Path) -> None:
    text = "\"{% for i in range(3) %}★{% endfor %}{{ '☆' * 2 }}\""
    folder = broken(tmp_path, "welcome.yaml", '"À bientôt."', text)
    dialogs, problems = check_directory(folder, LANGS, "welcome", standard_features())
    assert dialogs is not None, problems


# -- while rendering: the same refusals, in case a template was never checked --------------
@pytest.mark.parametrize(
    "source",
    [
        "{{ 'a' * 2000000000 }}",
        "{{ 2000000000 * 'a' }}",
        "{{ ['a'] * 10 ** 9 }}",
        "{{ 2 ** (10 ** 7) }}",
        "{{ '%999999999s' % 'x' }}",
        "{{ '%*s' % (999999999, 'x') }}",
        "{{ '%999999999d'|format(1) }}",
        "{{ '{:>999999999}'.format('x') }}",
        "{{ '{:{w}}'.format('x', w=999999999) }}",
        "{{ 'x'.center(10 ** 9) }}",
        "{{ 'x'.zfill(10 ** 9) }}",
        "{{ 'a\tb'.expandtabs(10 ** 9) }}",
        "{{ ('ab' * 999).replace('', 'x' * 999) }}",
        "{{ ('x' * 9999).join('y' * 9999) }}",
        "{{ 'x'|center(10 ** 9) }}",
        "{{ 'a\nb'|indent(10 ** 9) }}",
        "{{ ('ab' * 999)|wordwrap(1, wrapstring='x' * 999) }}",
        "{{ range(9999)|join('x' * 99) }}",
        "{{ ('ab' * 999)|replace('', 'x' * 999) }}",
        "{{ [1]|batch(10 ** 9, 0)|list }}",
        "{{ [1]|batch(linecount=10 ** 9, fill_with=0)|list }}",
        "{{ [1]|slice(10 ** 9)|list }}",
        "{{ [1]|slice(slices=10 ** 9)|list }}",
        "{{ 'a\tb'.expandtabs(tabsize=10 ** 9) }}",
        "{{ 'x'|center(width=10 ** 9) }}",
        "{{ [1]|tojson(indent=10 ** 9) }}",
        "{{ '%999999999d' is odd }}",
        "{{ lipsum(10 ** 6) }}",
        "{% set ns = namespace(s='a') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}",
        "{% set l = [1] %}{% for i in range(40) %}{{ l.extend(l) }}{% endfor %}",
    ],
)
def test_rendering_refuses_to_build_huge_values(source: str) -> None:
    start = time.perf_counter()
    with pytest.raises(RenderError):
        Renderer().render(source, {})
    assert time.perf_counter() - start < 1.0


def test_rendering_keeps_what_is_bounded() -> None:
    render = Renderer().render
    assert render("{{ '★' * 3 }}{{ 2 * 'ab' }}{{ 2 ** 10 }}{{ 6 * 7 }}", {}) == "★★★abab102442"
    assert render("{{ '%3s|%-3d|' % ('a', 7) }}{{ '{:>4}'.format('b') }}", {}) == "a|7  |   b"
    assert render("{{ 'x'|center(5) }}|{{ 'a\nb'|indent(2) }}|{{ 3 is odd }}", {}) == (
        "x  |a\n  b|True"
    )
    assert render("{{ [1, 2, 3]|batch(2, 0)|list }} {{ ', '.join(['a', 'b']) }}", {}) == (
        "[[1, 2], [3, 0]] a, b"
    )
    assert render("{{ 'ab' * -1 }}{{ 'ab' * n }}", {"n": 2}) == "abab"


def test_a_value_at_the_limit_still_renders() -> None:
    assert len(Renderer().render("{{ 'a' * n }}", {"n": MAX_BUILT})) == MAX_BUILT
    with pytest.raises(RenderError, match="at most 100000"):
        Renderer().render("{{ 'a' * n }}", {"n": MAX_BUILT + 1})
