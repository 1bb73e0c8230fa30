"""/broadcast on the chat harness: an operator writes a message for everyone in each
language, sees the preview and the reach, confirms; bad texts are explained and asked
for again; the job is followed, paused, resumed and cancelled; one job at a time; for
anyone else the command does not exist. The broadcaster is stepped by hand, on a clock
that moves only when told to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.app.bootstrap import standard_features
from bot.app.broadcasting import check_text, serve_broadcasts
from bot.core.dialogset import DialogSet
from bot.core.render import to_plain
from bot.dialogs.load import load_dialogs
from bot.runtime.broadcaster import Broadcaster
from bot.runtime.conversation import Conversations, Person
from bot.store import SqliteStore
from bot.testing import ChatHarness, FakeClock

from .conftest import LANGS, MINI

ADMIN = 99
NNBSP = "\u202f"


@pytest.fixture(scope="module")
def dialogs() -> DialogSet:
    return load_dialogs(MINI, LANGS, "welcome", standard_features(admins=(ADMIN,)))


class Seconds:
    """A monotonic clock for the broadcaster's pace, moved by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Bot:
    conversations: Conversations
    store: SqliteStore
    clock: FakeClock
    seconds: Seconds
    broadcaster: Broadcaster

    async def person(self, user_id: int, name: str, lang: str = "fr") -> ChatHarness:
        harness = ChatHarness(self.conversations, Person(user_id, name, lang), self.clock)
        await harness.send("/start")
        return harness

    async def move(self, looks: int = 1) -> int:
        """`looks` looks of the broadcaster, a tenth of a second apart."""
        moved = 0
        for _ in range(looks):
            self.seconds.now += 0.1
            moved += await self.broadcaster.step()
        return moved

    async def outbox(self) -> list[Any]:
        return [r for r in await self.store.outbox.after(0) if r.kind == "broadcast"]

    async def deliver(self) -> list[Any]:
        """What the sender would do: every broadcast row accepted by Telegram."""
        rows = await self.outbox()
        await self.store.outbox.sent([r.id for r in rows])
        return rows


@pytest.fixture
async def bot(store: SqliteStore, dialogs: DialogSet) -> AsyncIterator[Bot]:
    conversations = Conversations(dialogs, store, "fr")
    clock, seconds = FakeClock(), Seconds()
    broadcaster = Broadcaster(
        store.broadcasts, lambda: conversations.dialogs, lambda: None, per_second=10,
        clock=clock.now, monotonic=seconds,
    )  # fmt: skip
    serve_broadcasts(conversations, store, "fr", 10, broadcaster)
    yield Bot(conversations, store, clock, seconds, broadcaster)


def plain(harness: ChatHarness) -> str:
    return to_plain(harness.last.text).replace(NNBSP, " ").replace("\xa0", " ")


async def compose(admin: ChatHarness, fr: str, en: str | None) -> None:
    """/broadcast, the French text, then the English one (None: the same as French)."""
    await admin.send("/broadcast")
    assert plain(admin) == "Texte en fr ?" and admin.labels == ["Annuler"]
    await admin.send(fr)
    assert plain(admin) == "Et en en (ou pareil qu'en fr) ?"
    assert admin.labels == ["Pareil qu'en fr", "Annuler"]
    if en is None:
        await admin.press("Pareil qu'en fr")
    else:
        await admin.send(en)


async def test_compose_in_french_and_english_preview_send_and_each_gets_their_own(
    bot: Bot,
) -> None:
    admin = await bot.person(ADMIN, "Opé")
    zoe = await bot.person(1, "Zoé")
    await bot.person(2, "Ann", "en")
    await bot.person(3, "Léo")
    await zoe.send("/stop")  # no more reminders: not reached
    await compose(admin, "Bonjour {{ user.first_name }}, du nouveau !", "Hi {{ user.first_name }}!")
    preview = plain(admin)
    assert preview == (
        "[fr 2]\n\nBonjour Opé, du nouveau !\n\n[en 1]\n\nHi Opé!\n\n3 personnes. On envoie ?"
    )
    assert admin.labels == ["Envoyer (3)", "Annuler"]
    await admin.press("Envoyer")
    assert plain(admin) == "Parti : 3, 1 min."
    assert await bot.store.broadcasts.draft(ADMIN) is None  # the draft became the job

    assert await bot.move() == 1  # the pace: one look, one tenth of ten a second
    assert await bot.move(5) == 2
    rows = await bot.outbox()
    texts = {r.chat_id: r.body["text"] for r in rows}
    assert texts == {
        2: "Hi Ann!",
        3: f"Bonjour Léo, du nouveau{NNBSP}!",
        ADMIN: f"Bonjour Opé, du nouveau{NNBSP}!",
    }
    await bot.deliver()
    assert await bot.move() == 0  # nobody left: the job is done
    await admin.send("/broadcast status")
    assert plain(admin).startswith("N° 1 done depuis")
    assert ": 3/3 reçus, 0 en attente, 0 bloqués, 0 refusés, 0 sautés, 0 min." in plain(admin)


async def test_an_english_operator_keeps_the_french_text_for_english_readers(
    store: SqliteStore, dialogs: DialogSet
) -> None:
    conversations = Conversations(dialogs, store, "fr")
    serve_broadcasts(conversations, store, "fr", 10)
    admin = ChatHarness(conversations, Person(ADMIN, "Al", "en"))
    await admin.send("/start")
    await admin.send("/broadcast")
    assert to_plain(admin.last.text) == "Text in fr?" and admin.labels == ["Cancel"]
    await admin.send("Salut {{ user.first_name }}")
    assert admin.labels == ["Same as fr", "Cancel"]
    await admin.send("same")
    assert to_plain(admin.last.text) == (
        "[fr 0]\n\nSalut Al\n\n[en 1 = fr]\n\nSalut Al\n\n1 people. Send?"
    )
    assert admin.labels == ["Send (1)", "Cancel"]
    draft = await store.broadcasts.draft(ADMIN)
    assert draft is not None and dict(draft.texts) == {"fr": "Salut {{ user.first_name }}"}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("Bonjour {{ user.first_name", "template syntax error"),
        ("Bonjour {{ vars.invited }}", "unknown variable 'vars': a broadcast goes to everyone"),
        ("Bonjour {{ user.email }}", "unknown variable 'user.email'"),
        ("<b>Bonjour", 'Telegram would refuse its HTML: unclosed start tag "b"'),
        ("<div>Bonjour</div>", 'unsupported start tag "div"'),
        ("{{ 'x' * 5000 }}", "can render up to 5000 characters (Telegram allows 4096)"),
        ("{% if false %}rien{% endif %}", "the text is empty once written out"),
        ("{{ 1 // 0 }}", "it cannot be written out"),
    ],
)
async def test_a_bad_text_is_explained_and_asked_again_nothing_lost(
    bot: Bot, text: str, says: str
) -> None:
    admin = await bot.person(ADMIN, "Opé")
    await admin.send("/broadcast")
    await admin.send("Bonjour à tous")
    await admin.send(text.replace("Bonjour", "Hello"))  # the English one is bad
    assert plain(admin).startswith("Refusé :\n• ") and says in plain(admin), plain(admin)
    assert admin.labels == ["Annuler"]
    await admin.send("Hello everyone")  # asked again: the French text is still there
    assert plain(admin).startswith("[fr 1]\n\nBonjour à tous\n\n[en 0]\n\nHello everyone")


async def test_a_french_typography_remark_does_not_stop_the_text(bot: Bot) -> None:
    admin = await bot.person(ADMIN, "Opé")
    await admin.send("/broadcast")
    await admin.send('Le "vrai" programme')
    said = plain(admin)
    assert said.startswith("Remarque :\n• ") and "straight quotes" in said
    assert said.endswith("Et en en (ou pareil qu'en fr) ?")  # and the next question


def test_the_checker_accepts_what_a_node_text_may_hold(dialogs: DialogSet) -> None:
    good = "<b>{{ user.first_name }}</b>, {% if user.lang == 'fr' %}salut{% endif %} ?"
    assert check_text(dialogs, good, "fr").errors == ()
    assert check_text(dialogs, "   ", "fr").errors == ("the text is empty",)
    assert check_text(dialogs, "Note: oui", "fr").warnings  # a glued colon, in French
    assert check_text(dialogs, "Note: yes", "en").warnings == ()


async def test_cancel_while_writing_and_at_the_preview(bot: Bot) -> None:
    admin = await bot.person(ADMIN, "Opé")
    await admin.send("/broadcast")
    await admin.send("annuler")
    assert plain(admin) == "Abandonné."
    await admin.send("euh")  # the question is closed: an ordinary text again
    assert "Abandonné" not in plain(admin)
    await compose(admin, "Bonjour", None)
    await admin.press("Annuler")
    assert plain(admin) == "Abandonné." and await bot.store.broadcasts.draft(ADMIN) is None
    send = admin.bot_lines[-2].buttons[0]
    assert send.label.startswith("Envoyer")
    await admin.press_data(send.data)  # the preview's Send, after Cancel: expired
    assert admin.last.text.startswith("Ce bouton a expiré")
    assert await bot.store.broadcasts.status() is None


async def test_an_older_preview_cannot_send_a_draft_written_since(bot: Bot) -> None:
    admin = await bot.person(ADMIN, "Opé")
    await compose(admin, "Premier", None)
    first = admin.find("Envoyer")
    await compose(admin, "Second", None)
    second = admin.find("Envoyer")
    await admin.press_data(first.data)
    assert admin.last.text.startswith("Ce bouton a expiré")
    await admin.press_data(second.data)
    assert plain(admin).startswith("Parti : 1")


async def test_for_anyone_else_broadcast_does_not_exist(bot: Bot) -> None:
    admin = await bot.person(ADMIN, "Opé")
    zoe = await bot.person(1, "Zoé")
    await compose(admin, "Bonjour", None)
    send = admin.find("Envoyer")
    for typed in ("/broadcast", "/broadcast status", "/broadcast pause", "/broadcast cancel"):
        await zoe.send(typed)
        assert plain(zoe) == "Commande inconnue : /broadcast"
    await zoe.press_data(send.data)  # a forged press of the operator's button
    assert zoe.last.text.startswith("Ce bouton a expiré")
    await zoe.press_data("!broadcast:cancel-0")
    assert zoe.last.text.startswith("Ce bouton a expiré")
    assert await bot.store.broadcasts.status() is None
    assert await bot.store.broadcasts.draft(ADMIN) is not None


async def test_status_pause_resume_cancel(bot: Bot) -> None:
    admin = await bot.person(ADMIN, "Opé")
    for uid in range(1, 13):
        await bot.person(uid, f"P{uid}")
    await admin.send("/broadcast status")
    assert plain(admin) == "Aucun envoi."
    await admin.send("/broadcast pause")
    assert plain(admin) == "Rien en cours."
    await compose(admin, "Bonjour", None)
    await admin.press("Envoyer")
    assert plain(admin) == "Parti : 13, 1 min."
    assert await bot.move() == 1
    await admin.send("/broadcast statut")
    assert "running" in plain(admin) and "0/13 reçus, 13 en attente" in plain(admin)
    await admin.send("/broadcast pause")
    assert plain(admin) == "En pause : 0 reçus, 13 en attente."
    await admin.send("/broadcast pause")
    assert plain(admin) == "Déjà paused."
    assert await bot.move(20) == 0, "a paused job moves nobody"
    await bot.deliver()  # the row moved before the pause still goes
    await admin.send("/broadcast reprendre")
    assert plain(admin) == "Reprise : 12 en attente, 1 min."
    await admin.send("/broadcast resume")
    assert plain(admin) == "Déjà running."
    assert await bot.move(3) == 3
    await admin.send("/broadcast annuler")
    assert plain(admin) == "Annulé : 1 reçus, 12 jamais."
    assert await bot.move(20) == 0
    await admin.send("/broadcast status")
    assert "N° 1 cancelled" in plain(admin) and " fini " in plain(admin)
    await admin.send("/broadcast cancel")
    assert plain(admin) == "Rien en cours."
    await admin.send("/broadcast n'importe quoi")
    assert plain(admin).startswith("Usage : /broadcast")


async def test_one_job_at_a_time_and_the_draft_waits(bot: Bot) -> None:
    admin = await bot.person(ADMIN, "Opé")
    await bot.person(1, "Zoé")
    await compose(admin, "Premier", None)
    await admin.press("Envoyer")
    await compose(admin, "Second", None)
    assert plain(admin).endswith("2 personnes, occupé. On envoie ?")
    await admin.press("Envoyer")
    assert plain(admin) == "Occupé : n° 1 running."
    await admin.send("/broadcast cancel")
    await admin.press("Envoyer")  # the same Send again
    assert plain(admin) == "Parti : 2, 1 min."
    status = await bot.store.broadcasts.status()
    assert status is not None and status.id == 2 and status.state == "running"


async def test_without_the_runtime_s_help_broadcasts_are_off(
    store: SqliteStore, dialogs: DialogSet
) -> None:
    admin = ChatHarness(Conversations(dialogs, store, "fr"), Person(ADMIN, "Opé", "fr"))
    await admin.send("/start")
    await admin.send("/broadcast")
    assert to_plain(admin.last.text) == "Pas d'envoi ici."


async def test_an_operator_who_never_started_is_asked_to_first(bot: Bot) -> None:
    admin = ChatHarness(bot.conversations, Person(ADMIN, "Opé", "fr"), bot.clock)
    await admin.send("/broadcast")
    assert plain(admin) == "D'abord /start."


def test_the_pace_is_configured_below_the_bot_s_own() -> None:
    from bot.app.config import load_config
    from bot.errors import ConfigError

    assert load_config({}, {}).broadcast.per_second == 10
    env = load_config({}, {"VIE_BROADCAST_PER_SECOND": "7.5"})
    assert env.broadcast.per_second == 7.5
    with pytest.raises(ConfigError) as refused:
        load_config({"broadcast": {"per_second": 40}}, {})
    assert str(refused.value).startswith(
        "broadcast.per_second = 40 is not below telegram.overall_per_second = 30"
    )
    with pytest.raises(ConfigError, match=r"broadcast\.per_second = 0"):
        load_config({"broadcast": {"per_second": 0}}, {})
