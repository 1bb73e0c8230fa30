"""French typography: the renderer's no-break spaces, what it leaves alone, and the
checker's warnings and length bound for what it cannot mend."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app.bootstrap import standard_features
from bot.core.render import Renderer, visible_length
from bot.core.typography import NARROW_NBSP, NBSP, most_added, typeset
from bot.dialogs.load import check_directory
from bot.errors import Problem

from .conftest import LANGS, MINI, ROOT, HarnessFactory
from .test_checker import broken

N, B = NARROW_NBSP, NBSP  # before ; ! ?   and   before :, inside « »


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Vraiment ?", f"Vraiment{N}?"),
        ("Vraiment?", f"Vraiment{N}?"),  # added where none was typed
        ("Vraiment  ?", f"Vraiment{N}?"),  # two spaces: one, that cannot break
        ("Quoi ?!", f"Quoi{N}?!"),  # a space before the first mark only
        ("Quoi?!", f"Quoi{N}?!"),
        ("Oui ; non. Oui; non!", f"Oui{N}; non. Oui{N}; non{N}!"),
        ("Note : oui", f"Note{B}: oui"),
        ("« Obtenir »", f"«{B}Obtenir{B}»"),
        ("« Vraiment ? »", f"«{B}Vraiment{N}?{B}»"),
        ("Et alors… ?", f"Et alors…{N}?"),
        ("<b>Vraiment</b>?", f"<b>Vraiment</b>{N}?"),  # tags are looked through
        ("<i>Vraiment</i> ?", f"<i>Vraiment</i>{N}?"),
        ("Tom &amp; Jerry?", f"Tom &amp; Jerry{N}?"),  # the entity's ';' is no mark
        (
            '<a href="https://t.me/x?start=1">Rejoindre ?</a>',
            f'<a href="https://t.me/x?start=1">Rejoindre{N}?</a>',
        ),
        ("Allez sur https://x.com ?", f"Allez sur https://x.com{N}?"),
        ("Vous connaissez https://x.com?", f"Vous connaissez https://x.com{N}?"),  # the sentence's
        ("Tapez /timezone ?", f"Tapez /timezone{N}?"),
        ("Il reste 1:30 ?", f"Il reste 1:30{N}?"),
        ("Oui.\nVraiment ?\nOui !", f"Oui.\nVraiment{N}?\nOui{N}!"),
    ],
)
def test_french_spaces(text: str, expected: str) -> None:
    assert typeset(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Rendez-vous à 14:05, ou à 9:30.",  # times
        "Gagné 2:1, puis 3:0.",  # scores
        "Merci :) et merci ;-) et :-( et :D",  # emoticons, with a space before them
        "Merci:) ou;)",
        '<a href="https://www.linkedin.com/?trk=a;b">LinkedIn</a>',  # an attribute
        "https://play.google.com/store/apps/details?id=com.linkedin.android",
        "www.exemple.fr/page?x=1&amp;y=2 et t.me/VieCoachBot?start=abc",
        "<code>a ? b ; c : d</code> et <pre>x ;y?</pre>",
        "mailto:zoe@example.org?subject=Bonjour",
        "? au début du texte",  # nothing can join it to a line before
        "Une ligne\n? seule",
        "Une ligne\n ? seule",
        "Une ligne<br>? seule",
        "Une ligne<br/> ! seule",
        "Un signe (?) entre parenthèses, un ¿? et un (?!)",
        f"Déjà tapé{N}? Et{B}? Et&#160;? Et&#8239;! Et&nbsp;?",  # typed by the operator: kept
        "Note: glued colon (the checker warns)",
        "«Obtenir» (the checker warns)",
        "a;b, x?y, f(x)=y!z",  # glued on both sides: not prose
        "Tom &amp; Jerry &#39;s &lt;b&gt;",
        "<i>Which language would you like&#63;</i>",  # English in French: kept glued
    ],
)
def test_left_alone(text: str) -> None:
    assert typeset(text) == text


def test_bundled_texts_once_typeset_keep_their_addresses() -> None:
    """Every address of the bundled French texts comes out whole."""
    address = re.compile(r"https?://[^\s<>\"{}]+")
    for path in (ROOT / "dialogs").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        for found in address.findall(text):
            assert found in typeset(f"Allez sur {found} ; puis revenez."), found


_PIECES = ["Vraiment", "a", "1", " ", "  ", "?", "!", ";", ":", "«", "»", "\n", "<b>", "</b>",
           "<br>", '<a href="https://x.com/?a=1;b">', "</a>", "&amp;", "&nbsp;", NBSP, N,
           "14:05", ":)", ";-)", "https://x.com/p?q", "t.me/bot?start=1", "<code>a ? b</code>",
           "(", ")", "…", "/help"]  # fmt: skip
_TEXTS = st.lists(st.sampled_from(_PIECES), max_size=24).map("".join)
_SPACES = re.compile(f"[ {NBSP}{N}]")


@given(_TEXTS)
def test_typesetting_twice_changes_nothing(text: str) -> None:
    once = typeset(text)
    assert typeset(once) == once


@given(_TEXTS)
def test_only_spaces_change_and_at_most_one_is_added_per_mark(text: str) -> None:
    out = typeset(text)
    assert _SPACES.sub("", out) == _SPACES.sub("", text)
    assert re.findall(r"<[^<>]*>", out) == re.findall(r"<[^<>]*>", text)
    assert len(out) <= len(text) + most_added(text)
    assert visible_length(out) <= visible_length(text) + most_added(text)


CONTEXT = {"user": {"first_name": "Zoé", "lang": "fr"}, "vars": {}}


def test_the_renderer_typesets_french_values_included() -> None:
    renderer = Renderer()
    assert renderer.render("Bonjour {{ user.first_name }}!", CONTEXT) == f"Bonjour Zoé{N}!"
    named = {"user": {"first_name": "Qui? & Cie", "lang": "fr"}}
    assert renderer.render("{{ user.first_name }} :", named) == f"Qui{N}? &amp; Cie{B}:"
    source = "Vraiment ?"
    assert renderer.render(source, CONTEXT) == renderer.render(source, CONTEXT)  # cached


@pytest.mark.parametrize("text", ["Really ?", "Really?", "Note : this « that »", "a ; b"])
def test_english_is_untouched(text: str) -> None:
    english = {"user": {"first_name": "Zoé", "lang": "en"}}
    assert Renderer().render(text, english) == text
    assert Renderer().render(text, {}) == text  # no language known: as written


async def test_a_french_conversation_shows_narrow_no_break_spaces(
    make_harness: HarnessFactory,
) -> None:
    zoe = await make_harness(name="Zoé")
    await zoe.send("/start")
    texts = [line.text for line in zoe.bot_lines]
    assert f"Bonjour Zoé{N}!" in texts[0]
    assert any(f"Par où commencer{N}?" in text for text in texts), texts
    assert not any(" ?" in text or " !" in text for text in texts), texts
    paul = await make_harness(user_id=2, lang="en", name="Paul")
    await paul.send("/start")
    assert paul.bot_lines[0].text.startswith("Hello Paul!")
    assert not any(N in line.text or NBSP in line.text for line in paul.bot_lines)


# -- the checker ----------------------------------------------------------------------


def edited(tmp_path: Path, old: str, new: str, file: str = "welcome.yaml") -> Path:
    """A copy of the mini dialog set with one edit (in welcome.yaml unless told)."""
    return broken(tmp_path, file, old, new)


def typography_warnings(problems: list[Problem]) -> list[Problem]:
    words = ("starts a line with", "colon glued", "straight quotes", "« » glued")
    return [p for p in problems if p.severity == "warning" and any(w in p.message for w in words)]


BYE = '{fr: "À bientôt.", en: "See you."}'


@pytest.mark.parametrize(
    ("french", "said"),
    [
        (r"À bientôt.\n? Vraiment.", "starts a line with '?'"),
        (r"À bientôt.\n ! Vraiment.", "starts a line with '!'"),
        ("À bientôt.<br>? Vraiment.", "starts a line with '?'"),
        ("? À bientôt.", "starts a line with '?'"),
        ("Note: à bientôt.", "colon glued"),
        (r"Touchez \"Obtenir\".", "straight quotes: French writes « … »"),
        ("Touchez «Obtenir».", "« » glued"),
    ],
)
def test_the_checker_warns_about_what_the_renderer_cannot_mend(
    tmp_path: Path, french: str, said: str
) -> None:
    folder = edited(tmp_path, BYE, f'{{fr: "{french}", en: "{french}"}}')
    dialogs, problems = check_directory(folder, LANGS, "welcome", standard_features())
    assert dialogs is not None, problems  # a warning, not an error
    [warning] = typography_warnings(problems)  # French only: the English copy is not read
    assert said in warning.message and warning.message.startswith("say.fr: ")
    lines = (folder / "welcome.yaml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, start=1) if french in text)
    assert Path(warning.file).resolve() == (folder / "welcome.yaml").resolve()
    assert (warning.line, warning.node) == (line, "bye")
    assert str(warning).endswith(f"node 'bye': [warning] {warning.message}")


@pytest.mark.parametrize(
    "french",
    [
        "À 14:05, score 2:1 :) ;-) https://x.com/a?b=1 www.x.fr/a:b t.me/bot?start=1",
        '<a href=\\"https://x.com/?a=1\\">Lien</a> : <code>x: \\"y\\"</code>',
        "{{ user.first_name }}: bonjour",  # a value before the colon: undecided
        "{% if vars.vip %}Oui{% endif %}\\n{% if vars.vip %}? {% endif %}Non",
        "« {{ user.first_name }} » ; « Obtenir » ?",
    ],
)
def test_no_warning_for_what_is_not_french_prose(tmp_path: Path, french: str) -> None:
    folder = edited(tmp_path, BYE, f'{{fr: "{french}", en: "See you."}}')
    dialogs, problems = check_directory(folder, LANGS, "welcome", standard_features())
    assert dialogs is not None, problems
    assert typography_warnings(problems) == []


def test_the_bundled_dialogs_have_no_typography_warning() -> None:
    for folder in (MINI, ROOT / "dialogs"):
        _, problems = check_directory(folder, LANGS, "welcome", standard_features())
        assert typography_warnings(problems) == [], "\n".join(map(str, problems))


def test_fact_texts_are_checked(tmp_path: Path) -> None:
    folder = edited(tmp_path, "99 % des internautes", "Sondage: 99 % des internautes", "facts.yaml")
    _, problems = check_directory(folder, LANGS, "welcome", standard_features())
    [warning] = typography_warnings(problems)
    assert warning.message.startswith("fact 'known_99' text.fr: ") and warning.node is None
    assert Path(warning.file).name == "facts.yaml" and warning.line == 3


def test_the_length_bound_counts_the_spaces_added(tmp_path: Path) -> None:
    """3,600 characters of `a? ` fit in Telegram's 4,096 as written, not with a narrow
    no-break space before each `?`; typed with a space, the same marks add nothing."""
    glued, spaced = "a? " * 1200, "a ? " * 1000
    assert len(typeset(glued)) == 4800 and len(typeset(spaced)) == 4000
    folder = edited(tmp_path, BYE, f'{{fr: "{glued}", en: "See you."}}')
    dialogs, problems = check_directory(folder, LANGS, "welcome", standard_features())
    [error] = [p for p in problems if p.severity == "error"]
    assert dialogs is None and error.node == "bye"
    assert "say.fr can render up to 4800 characters" in error.message
    assert "narrow no-break spaces" in error.message
    for fr, en in ((spaced, "See you."), ("À bientôt.", glued)):  # English gets none
        folder = edited(tmp_path / fr[:3], BYE, f'{{fr: "{fr}", en: "{en}"}}')
        dialogs, problems = check_directory(folder, LANGS, "welcome", standard_features())
        assert dialogs is not None, problems
