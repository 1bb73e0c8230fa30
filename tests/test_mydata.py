"""/mydata: a readable summary in the person's language, then everything as a JSON file
(sendDocument), with no one else's Telegram id in either."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram.error import BadRequest

from bot.adapters.telegram import transport as transport_module
from bot.adapters.telegram.transport import TelegramTransport
from bot.core.dialogset import DialogSet
from bot.core.events import Document, Send
from bot.runtime.conversation import coalesce
from bot.runtime.sender import Outcome
from bot.store.queues import Outgoing, Queued, shown_body
from bot.testing import ChatHarness
from bot.testing.botapi import FakeUser
from bot.testing.harness import Line, format_line

from .conftest import HarnessFactory
from .test_botapi import TOKEN, wired_bot
from .test_telegram import deliver, running
from .test_terminal import chat

__all__ = ["running"]  # the fixture, from test_telegram
FILE = "vie-coach-my-data.json"
PAUL_ID = 7_654_321  # the advocate: his id must appear nowhere in his friend's copy
ZOE_ID = 1_234_567


async def invite(paul: ChatHarness) -> str:
    await paul.send("/invite")
    found = re.search(r"start=([A-Za-z0-9_-]{22})", paul.last.text)
    assert found is not None, paul.last.text
    return found.group(1)


async def invited_pair(
    make_harness: HarnessFactory, dialogs: DialogSet | None, lang: str
) -> tuple[ChatHarness, ChatHarness]:
    """Paul (an advocate) invites Zoé, who arrives through his link."""
    paul = await make_harness(dialogs=dialogs, user_id=PAUL_ID, name="Paul")
    await paul.send("/start")
    payload = await invite(paul)
    zoe = await make_harness(dialogs=dialogs, user_id=ZOE_ID, name="Zoé", lang=lang)
    await zoe.send(f"/start {payload}")
    return paul, zoe


def copy_of(h: ChatHarness) -> dict[str, Any]:
    (document,) = h.documents[-1:]
    assert document.name == FILE and document.mime_type == "application/json"
    data: dict[str, Any] = json.loads(document.content.decode("utf-8"))
    return data


# -- the summary --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "fr",
            [
                "Ce que je garde à votre sujet, Zoé",
                "• Votre chemin : V Viraliser 0/6 · I Informer 0/7 · E Éduquer 0/4",
                "• Langue : Français",
                "• Fuseau horaire : Europe/Paris, d'après votre langue (/timezone pour le changer)",
                "• Rappels : oui, avec modération (/stop pour les arrêter)",
                "• Arrivée : grâce à une invitation de Paul. Paul voit votre avancement par "
                "étape, jamais ce que vous écrivez (/privacy pour l'en empêcher).",
                "événements notés",
                "Tout le détail est dans le fichier ci-dessous (vie-coach-my-data.json)",
                "/forget efface tout cela, définitivement, après une confirmation.",
            ],
        ),
        (
            "en",
            [
                "What I keep about you, Zoé",
                "• Your path: V Spread 0/6 · I Inform 0/7 · E Learn 0/4",
                "• Language: English",
                "• Time zone: Europe/London, from your language (/timezone to change it)",
                "• Reminders: yes, sparingly (/stop to turn them off)",
                "• How you came: through an invitation from Paul. Paul sees your progress by "
                "stage, never what you write (/privacy to stop that).",
                "events noted",
                "Every detail is in the file below (vie-coach-my-data.json), yours to keep.",
                "/forget erases all of it, for good, after a confirmation.",
            ],
        ),
    ],
)
async def test_the_summary_in_the_persons_language(
    make_harness: HarnessFactory, bundled: DialogSet, lang: str, expected: list[str]
) -> None:
    _, zoe = await invited_pair(make_harness, bundled, lang)
    summary, copy = await zoe.send("/mydata")
    for line in expected:
        zoe.expect(line, last=2)
    assert str(PAUL_ID) not in summary.text and summary.document is None
    assert copy.document is not None and copy.text == ""
    assert "{" not in summary.text, "no JSON in the message"


async def test_the_summary_follows_the_settings(
    make_harness: HarnessFactory, bundled: DialogSet
) -> None:
    sam = await make_harness(dialogs=bundled, user_id=3, name="Sam", lang="en")
    await sam.send("/start")
    await sam.send("/stop")
    await sam.send("/timezone new york")
    await sam.send("/invite")
    await sam.send("xqzt blorp")  # not understood: kept for the operators
    await sam.send("/mydata")
    for line in [
        "• Time zone: America/New_York (/timezone to change it)",
        "• Reminders: none, as you asked (/reminders to have them back)",
        "• How you came: without an invitation",
        "• Your invitation links: 1 (/invites to see them)",
        "• Messages I did not understand: 1.",
    ]:
        sam.expect(line, last=2)


# -- the file ------------------------------------------------------------------------------
async def test_the_file_holds_everything_but_the_advocates_id(
    make_harness: HarnessFactory,
) -> None:
    paul, zoe = await invited_pair(make_harness, None, "fr")
    await zoe.press(1)
    await zoe.send("/mydata")
    raw = zoe.documents[-1].content.decode("utf-8")
    copy = json.loads(raw)
    data = copy["data"]
    assert copy["exported_at"] == zoe.now().isoformat()
    assert data["users"][0]["first_name"] == "Zoé", "accents as they are: UTF-8"
    assert '"Zoé"' in raw and "\\u00e9" not in raw and raw.startswith('{\n  "exported_at"')
    assert data["conversations"][0]["flow"] and data["events"]
    (referral,) = data["referrals"]
    assert referral["invited_by"] == {"first_name": "Paul"}
    assert "advocate_id" not in referral and "path" not in referral
    assert str(PAUL_ID) not in raw and str(ZOE_ID) not in raw
    # the advocate's own copy: his friend's id is not in it either (an alert is waiting)
    await paul.send("/mydata")
    raw = paul.documents[-1].content.decode("utf-8")
    assert json.loads(raw)["data"]["alerts"], "an alert about Zoé is waiting for Paul"
    assert str(ZOE_ID) not in raw and str(PAUL_ID) not in raw


async def test_a_copy_not_sent_yet_is_shown_by_name_not_by_its_bytes() -> None:
    content = json.dumps({"data": "é" * 3000}).encode("utf-8")
    row = Outgoing.message(1, Send("", document=Document(FILE, content, "application/json")))
    shown = shown_body(row.body)
    assert shown["document"] == {"name": FILE, "bytes": len(content)}
    assert shown_body({"text": "hi", "buttons": []}) == {"text": "hi", "buttons": []}


def test_a_file_goes_through_the_outbox_unchanged_and_alone() -> None:
    document = Document(FILE, '{\n  "a": "é"\n}'.encode(), "application/json")
    send = Send("", document=document)
    row = Outgoing.message(5, send)
    assert json.loads(json.dumps(row.body)) == row.body, "the body is plain JSON"
    queued = Queued(1, 5, row.kind, row.body, datetime.now(UTC))
    assert queued.as_send() == send
    assert coalesce([Send("a"), send, Send("b")]) == [Send("a"), send, Send("b")]


def test_the_transcript_shows_a_file_by_name_and_size() -> None:
    document = Document(FILE, b"x" * 2100, "application/json")
    assert format_line(Line("bot", "", (), document)) == f"📎 {FILE} (2.1 kB)"
    assert format_line(Line("bot", "Voici", (), document)) == f"Voici\n📎 {FILE} (2.1 kB)"
    assert format_line(Line("bot", "", (), Document("a.txt", b"abc"))) == "📎 a.txt (3 B)"


async def test_the_harness_receives_the_file(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    await h.send("/start")
    await h.send("/mydata")
    shown = h.plain(h.transcript[-3:])
    assert f"📎 {FILE} (" in shown and '"exported_at"' not in shown
    assert copy_of(h)["data"]["users"][0]["first_name"] == "Zoé"


def test_the_terminal_shows_the_file_not_its_json(tmp_path: Path) -> None:
    run = chat(tmp_path / "t.db", "/mydata\n/quit\n", "--user", "Zoé")
    assert run.returncode == 0, run.stderr
    assert f"📎 {FILE} (" in run.stdout
    assert '"exported_at"' not in run.stdout and "<pre>" not in run.stdout


# -- Telegram ------------------------------------------------------------------------------
PAUL = FakeUser(PAUL_ID, "Paul", "fr")
ZOE = FakeUser(ZOE_ID, "Zoé", "fr")


async def test_the_file_arrives_through_telegram(running: Any) -> None:
    app, emulator = running
    await deliver(app, emulator.user_message(PAUL, "/invite"))
    found = re.search(r"\?start=([A-Za-z0-9_-]{22})", emulator.sent_to(PAUL_ID)[-1]["text"])
    assert found is not None
    await deliver(app, emulator.user_message(ZOE, f"/start {found.group(1)}"))
    before = len(emulator.sent_to(ZOE_ID))
    await deliver(app, emulator.user_message(ZOE, "/mydata"))
    summary, sent = emulator.sent_to(ZOE_ID)[before:]
    assert summary["text"].startswith("Vos données, Zoé") and "de Paul" in summary["text"]
    assert "document" not in summary and sent["document"]["file_name"] == FILE
    assert sent["document"]["mime_type"] == "application/json"
    upload = emulator.document_of(sent)
    assert upload.name == FILE and sent["document"]["file_size"] == len(upload)
    data = json.loads(upload.decode("utf-8"))["data"]
    assert data["users"][0]["first_name"] == "Zoé"
    assert data["referrals"][0]["invited_by"] == {"first_name": "Paul"}
    assert str(PAUL_ID) not in upload.decode("utf-8")
    assert len(emulator.calls_to("sendDocument")) == 1
    assert await app.bot_data["vie"].store.outbox.count() == 0, "sent, then deleted"


async def test_a_file_waits_in_the_outbox_while_telegram_is_down(running: Any) -> None:
    app, emulator = running
    await deliver(app, emulator.user_message(ZOE, "/start"))
    emulator.fail_next("sendDocument", 502, times=2)  # a bad gateway, twice
    await deliver(app, emulator.user_message(ZOE, "/mydata"))
    assert [m for m in emulator.sent_to(ZOE_ID) if "document" in m], "sent once it answered"
    assert len(emulator.calls_to("sendDocument")) == 3
    assert await app.bot_data["vie"].store.outbox.count() == 0


@pytest.mark.parametrize("how", ["in-process", "http"])
async def test_the_transport_uploads_multipart_and_keeps_the_outcomes(
    how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with wired_bot(how, TOKEN) as (bot, emulator):
        transport = TelegramTransport(bot)
        content = json.dumps({"name": "Zoé"}, ensure_ascii=False).encode("utf-8")
        document = Document(FILE, content, "application/json")
        row = Outgoing.message(ZOE_ID, Send("<b>Vos données</b>", document=document))
        queued = Queued(1, ZOE_ID, row.kind, row.body, datetime.now(UTC))
        assert await transport.deliver(queued) is Outcome.SENT
        (upload,) = emulator.documents_to(ZOE_ID)
        assert upload == content and upload.name == FILE
        assert upload.mime_type == "application/json"
        assert emulator.sent_to(ZOE_ID)[-1]["caption"] == "<b>Vos données</b>"
        emulator.fail_chat(ZOE_ID)  # blocked
        assert await transport.deliver(queued) is Outcome.BLOCKED
        emulator.restore_chat(ZOE_ID)
        monkeypatch.setattr(transport_module, "DOCUMENT_LIMIT", 10)  # too large for Telegram
        assert await transport.deliver(queued) is Outcome.REFUSED
        assert len(emulator.documents_to(ZOE_ID)) == 1


async def test_the_emulator_answers_send_document_as_telegram_does() -> None:
    async with wired_bot("http", TOKEN) as (bot, emulator):
        sent = await bot.send_document(ZOE_ID, document=b"abc", filename="a.txt", caption="x")
        assert sent.document is not None and sent.document.file_name == "a.txt"
        assert sent.document.file_size == 3 and sent.caption == "x"
        again = await bot.send_document(ZOE_ID, document=sent.document.file_id)
        assert again.document is not None and again.document.file_id == sent.document.file_id
        assert emulator.documents_to(ZOE_ID) == [b"abc", b"abc"]
        with pytest.raises(BadRequest, match=r"(?i)file must be non-empty"):
            await bot.send_document(ZOE_ID, document=b"", filename="empty.txt")
        with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
            await bot.send_document(ZOE_ID, document="no-such-file-id")
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_document(
                ZOE_ID, document=b"abc", filename="a.txt", caption="<b>x", parse_mode="HTML"
            )
        with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
            await bot.send_document(ZOE_ID, document=b"abc", filename="a.txt", caption="x" * 1025)
