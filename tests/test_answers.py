"""Typed answers (`input:`): the link-shortening exercise, its checks and its mistakes."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from bot.adapters.redirects import check_redirect
from bot.app.bootstrap import standard_features
from bot.core.dialogset import DialogSet
from bot.core.links import RedirectCheck
from bot.dialogs.load import check_directory, load_dialogs
from bot.runtime.conversation import Conversations, Person
from bot.store import SqliteStore
from bot.testing import ChatHarness, FakeClock

from .conftest import LANGS, MINI, local_http

EXERCISE = """\
flow: exercise
start: long
on_text:
  - {match: {fr: [exercice], en: [exercise]}, goto: long}
nodes:
  long:
    say: {fr: "Collez un lien long.", en: "Paste a long link."}
    input: {kind: url, save: long_url, goto: short}
    buttons:
      - {id: skip, label: {fr: "Passer", en: "Skip"}, goto: welcome.menu}
  short:
    say: {fr: "Votre lien fait {{ vars.long_url | length }} caractères. Le lien court ?", en: "Short link?"}
    input: {kind: short_url, of: long_url, save: short_url, goto: done, shorteners: [tinyurl.com, bit.ly]}
    buttons:
      - {id: skip, label: {fr: "Passer", en: "Skip"}, goto: welcome.menu}
  done:
    say: {fr: "Bravo : {{ vars.short_url | length }} caractères.", en: "Well done."}
    end: true
    buttons:
      - {id: menu, label: {fr: "Menu", en: "Menu"}, goto: welcome.menu}
"""
LONG = "https://www.example.org/recettes/tarte-aux-pommes?source=carnet&page=2"


def with_exercise(folder: Path, text: str = EXERCISE) -> Path:
    shutil.copytree(MINI, folder)
    (folder / "exercise.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def exercise(tmp_path_factory: pytest.TempPathFactory) -> DialogSet:
    return load_dialogs(
        with_exercise(tmp_path_factory.mktemp("x") / "d"), LANGS, "welcome", standard_features()
    )


Verify = Callable[[str], Awaitable[RedirectCheck]]


async def harness(
    store: SqliteStore, dialogs: DialogSet, verify: Verify | None = None
) -> ChatHarness:
    h = ChatHarness(
        Conversations(dialogs, store, "fr", verify), Person(1, "Zoé", "fr"), FakeClock()
    )
    await h.send("/start")
    await h.press("M'informer")  # closes the "who invited you?" question
    await h.send("exercice")
    h.expect("Collez un lien long.")
    return h


async def test_the_exercise_accepts_a_long_link_then_its_short_form(
    store: SqliteStore, exercise: DialogSet
) -> None:
    h = await harness(store, exercise)
    await h.send("je ne sais pas")
    h.expect("pas tout à fait une adresse de page web")
    assert h.labels == ["Passer"], "the way out stays at hand"
    await h.send(f"  {LONG}  ")
    h.expect(f"Votre lien fait {len(LONG)} caractères")
    await h.send("https://www.example.org/autre")
    h.expect("ne vient pas d'un raccourcisseur que je connais")
    h.expect("tinyurl.com, bit.ly")
    await h.send("https://tinyurl.com/" + "x" * 80)
    h.expect("n'est pas plus court")
    await h.send("https://tinyurl.com/tarte42")
    h.expect("Bravo : 27 caractères.")
    state = await store.load(1)
    assert state is not None and state.vars["short_url"] == "https://tinyurl.com/tarte42"


async def test_a_keyword_still_works_at_an_exercise(
    store: SqliteStore, exercise: DialogSet
) -> None:
    h = await harness(store, exercise)
    await h.send("et ma vie privée ?")  # not a link, and a rule of the informer matches
    h.expect("Qu'est-ce qui vous retient ?")


def fixed(check: RedirectCheck | None) -> Verify:
    async def verify(url: str) -> RedirectCheck:
        return check or RedirectCheck(url, None, "unreachable")

    return verify


@pytest.mark.parametrize(
    ("location", "problem", "accepted", "said"),
    [
        (LONG, None, True, "Bravo"),
        (
            "https://example.org/recettes/tarte-aux-pommes?source=carnet&page=2#top",
            None,
            True,
            "Bravo",
        ),
        ("https://www.example.org/autre-chose", None, False, "pas vers votre page de départ"),
        (None, "no_redirect", False, "il ne renvoie vers aucune page"),
        (None, "private_address", False, "il ne renvoie vers aucune page"),
        (None, "timeout", True, "Je n'ai pas pu vérifier"),
        (None, "unreachable", True, "Je n'ai pas pu vérifier"),
    ],
)
async def test_verified_short_links(
    store: SqliteStore, exercise: DialogSet, location: str | None, problem: str | None,
    accepted: bool, said: str,
) -> None:  # fmt: skip
    short = "https://tinyurl.com/tarte42"
    h = await harness(store, exercise, fixed(RedirectCheck(short, location, problem)))  # type: ignore[arg-type]
    await h.send(LONG)
    await h.send(short)
    h.expect(said)
    state = await store.load(1)
    assert state is not None and ("short_url" in state.vars) == accepted


@pytest.fixture
async def shortener() -> AsyncIterator[tuple[str, list[str]]]:
    """A local "shortener": /tarte42 redirects to LONG, /ailleurs elsewhere, /page does not."""
    seen: list[str] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        seen.append(f"{request.method} {request.path}")
        if request.path == "/tarte42":
            raise web.HTTPMovedPermanently(LONG)
        if request.path == "/ailleurs":
            raise web.HTTPFound("https://www.example.org/autre-chose")
        return web.Response(text="une page")

    async with local_http(handle) as port:
        yield f"http://127.0.0.1:{port}", seen


def through(server: str, *, allow_private: bool) -> Verify:
    """The real check, with tinyurl.com's address replaced by the local server's."""

    async def verify(url: str) -> RedirectCheck:
        local = url.replace("https://tinyurl.com", server)
        result = await check_redirect(local, timeout=2, allow_private=allow_private)
        return RedirectCheck(url, result.location, result.problem)

    return verify


@pytest.mark.parametrize(
    ("path", "accepted", "said"),
    [
        ("tarte42", True, "Bravo"),
        ("ailleurs", False, "pas vers votre page"),
        ("page", False, "aucune page"),
    ],
)
async def test_against_a_local_shortener(
    store: SqliteStore, exercise: DialogSet, shortener: tuple[str, list[str]], path: str,
    accepted: bool, said: str,
) -> None:  # fmt: skip
    server, seen = shortener
    h = await harness(store, exercise, through(server, allow_private=True))
    await h.send(LONG)
    await h.send(f"https://tinyurl.com/{path}")
    h.expect(said)
    assert seen == [f"HEAD /{path}"], "one HEAD request, redirects not followed"


async def test_a_private_address_is_never_asked(
    store: SqliteStore, exercise: DialogSet, shortener: tuple[str, list[str]]
) -> None:
    server, seen = shortener
    h = await harness(store, exercise, through(server, allow_private=False))
    await h.send(LONG)
    await h.send("https://tinyurl.com/tarte42")
    h.expect("il ne renvoie vers aucune page")
    assert seen == [], "the bot's own network is never probed"


async def test_nothing_goes_out_for_a_link_that_fails_the_simple_checks(
    store: SqliteStore, exercise: DialogSet
) -> None:
    asked: list[str] = []

    async def verify(url: str) -> RedirectCheck:
        asked.append(url)
        return RedirectCheck(url, LONG, None)

    h = await harness(store, exercise, verify)
    await h.send(LONG)
    for typed in ("pas un lien", "https://evil.example/x", "https://bit.ly/" + "y" * 90):
        await h.send(typed)
    assert asked == []
    await h.send("https://bit.ly/ok")
    assert asked == ["https://bit.ly/ok"]


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("goto: short}", "goto: nowhere}", "input leads to unknown node"),
        ("of: long_url, ", "", "needs 'of'"),
        ("of: long_url", "of: nothing_saved", "is kept by no 'input' of kind url"),
        (", shorteners: [tinyurl.com, bit.ly]", "", "needs 'shorteners'"),
        (
            "kind: url, save: long_url,",
            "kind: url, shorteners: [bit.ly], save: long_url,",
            "for kind short_url only",
        ),
        ("shorteners: [tinyurl.com, bit.ly]", "shorteners: [not a domain]", "is not a domain name"),
        ("kind: url,", "kind: email,", "is not one of"),
        (
            '    input: {kind: url, save: long_url, goto: short}\n    buttons:\n      - {id: skip, label: {fr: "Passer", en: "Skip"}, goto: welcome.menu}\n',
            "    input: {kind: url, save: long_url, goto: short}\n",
            "needs a button too",
        ),
    ],
)
def test_the_checker_catches_exercise_mistakes(
    tmp_path: Path, old: str, new: str, fragment: str
) -> None:
    assert old in EXERCISE, old
    folder = with_exercise(tmp_path / "d", EXERCISE.replace(old, new, 1))
    dialogs, problems = check_directory(folder, LANGS, "welcome", standard_features())
    errors = [p for p in problems if p.severity == "error"]
    assert dialogs is None and any(fragment in p.message for p in errors), errors
    assert all(
        p.file.endswith("exercise.yaml") and p.line > 0 for p in errors if fragment in p.message
    )
