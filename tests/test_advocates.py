"""The advocate's side: invitations, /friends, privacy, alerts, the people helped, the
toolkit and the referral tree."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.app.bootstrap import standard_features, with_features
from bot.core.callback import encode_dialog
from bot.core.dialogset import DialogSet
from bot.core.engine import step
from bot.core.events import Press, Record, Send, Text
from bot.core.model import JOURNEY_STAGE
from bot.core.render import to_plain
from bot.core.state import UserState, evolve, new_state
from bot.features.advocates.effects import CreditReferral
from bot.features.advocates.records import AdvocatePolicy, Helped
from bot.features.advocates.state import ADVOCACY
from bot.store import SqliteStore
from bot.testing import ChatHarness

from .conftest import HarnessFactory

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
JOURNEY_STAGE_FLOW = "eduquer"  # the bundled flow of the journey's last stage


async def invite(paul: ChatHarness, name: str = "") -> str:
    await paul.send(f"/invite {name}".strip())
    found = re.search(r"start=([A-Za-z0-9_-]{22})", paul.last.text)
    assert found, paul.last.text
    return found.group(1)


async def join(friend: ChatHarness, payload: str) -> None:
    await friend.send(f"/start {payload}")


def spaced(text: str) -> str:
    """French no-break spaces as plain ones (the renderer adds them to every French text)."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def plain(text: str) -> str:
    """A message as a person reads it."""
    return spaced(to_plain(text))


def told(*harnesses: ChatHarness) -> list[str]:
    """Plain texts of the alerts delivered to Paul (user 1) by these harnesses' `advance`."""
    return [plain(s.text) for h in harnesses for s in h.others.get(1, [])]


def said(harness: ChatHarness, last: int = 3) -> str:
    """The last bot messages, as plain text."""
    return "\n".join(plain(line.text) for line in harness.bot_lines[-last:])


# -- invitations --------------------------------------------------------------------------
async def test_invite_reuses_the_open_link_and_names_make_new_ones(
    make_harness: HarnessFactory,
) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    first = await invite(paul)
    assert await invite(paul) == first, "the personal link stays the same"
    marie = await invite(paul, "Marie")
    assert marie != first and await invite(paul, "  marie ") == marie
    share = paul.keyboard[0]
    assert share.url is not None and share.url.startswith("https://t.me/share/url?")
    assert "Marie%2C+j%27utilise" in share.url  # the YAML's share text, named
    await paul.send("/invites")
    assert len(paul.keyboard) == 2 and "Marie" in paul.last.text


async def test_the_number_of_open_invitations_is_capped(
    make_harness: HarnessFactory, mini: DialogSet
) -> None:
    small = with_features(mini, standard_features(advocacy=AdvocatePolicy(max_invites=2)))
    paul = await make_harness(dialogs=small, user_id=1, name="Paul")
    await invite(paul, "A")
    await invite(paul, "B")
    await paul.send("/invite C")
    paul.expect("déjà 2 invitations ouvertes")
    await paul.send("/invite A")  # an existing one is still shown
    assert "start=" in paul.last.text


# -- /friends ------------------------------------------------------------------------------
async def test_friends_shows_progress_by_stage_never_what_they_wrote(
    make_harness: HarnessFactory,
) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    zoe = await make_harness(user_id=2, name="Zoé")
    await join(zoe, await invite(paul, "Zoé"))
    await zoe.send("ma vie privée, secrète")  # keyword: goes to the informer intro
    await zoe.press("Vivre caché")
    await zoe.press("Convaincu")  # stage I completed
    await paul.send("/friends")
    text = plain(paul.last.text)
    assert "Vos proches invités : 1" in text
    assert "Zoé — V 0/0 · I ✓ · E 0/0" in text and "aujourd'hui" in text
    assert "secrète" not in text


async def test_friends_are_paged_newest_first(make_harness: HarnessFactory) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    payload = await invite(paul)
    for uid in range(100, 120):
        friend = await make_harness(user_id=uid, name=f"Ami{uid}")
        await join(friend, payload)
        friend.clock.advance(timedelta(seconds=1))
    await paul.send("/friends")
    seen = re.findall(r"Ami(\d+)", paul.last.text)
    assert seen == [str(u) for u in range(119, 111, -1)] and "Page 1 sur 3" in paul.last.text
    await paul.press("Suivants")
    assert re.findall(r"Ami(\d+)", paul.last.text) == [str(u) for u in range(111, 103, -1)]
    await paul.press("Suivants")
    assert re.findall(r"Ami(\d+)", paul.last.text) == [str(u) for u in range(103, 99, -1)]
    assert paul.labels == ["◀ Précédents"] and "Page 3 sur 3" in paul.last.text
    await paul.press("Précédents")
    assert re.findall(r"Ami(\d+)", paul.last.text) == [str(u) for u in range(111, 103, -1)]
    await paul.press_data("!friends:n9_oops")  # forged: the first page, nothing worse
    assert "Page 1 sur 3" in paul.last.text


async def test_privacy_switch_hides_progress_and_stops_alerts(
    make_harness: HarnessFactory,
) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    zoe = await make_harness(user_id=2, name="Zoé")
    await join(zoe, await invite(paul))
    await zoe.send("/privacy")
    await zoe.press("Ne plus partager")
    assert "voit seulement que vous avez répondu à son invitation" in said(zoe, 1)
    await zoe.send("vie privée")
    await zoe.press("Vivre caché")
    await zoe.press("Convaincu")  # finishing a stage: nothing queued for Paul
    await zoe.advance(timedelta(days=30))  # nor when she goes quiet
    assert told(zoe) == [], "the joined alert was dropped too: she switched off first"
    await paul.send("/friends")
    assert "préfère garder sa progression" in paul.last.text and "I ✓" not in paul.last.text


# -- alerts ------------------------------------------------------------------------------------
async def test_an_alert_is_delivered_once_with_a_suggestion(make_harness: HarnessFactory) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    zoe = await make_harness(user_id=2, name="Zoé")
    await join(zoe, await invite(paul))
    await zoe.advance(timedelta(minutes=5))
    assert told(zoe) == [], "alerts wait a little, to gather what comes together"
    await zoe.advance(timedelta(minutes=6))
    (alert,) = told(zoe)
    assert "Zoé a ouvert votre invitation" in alert and "petit mot" in alert
    await zoe.advance(timedelta(days=1))
    assert len(told(zoe)) == 1, "delivered once"
    labels = [b.label for b in zoe.others[1][0].buttons]
    assert labels == ["Voir mes proches", "Plus d'alertes"]


async def test_alerts_close_together_make_one_message(make_harness: HarnessFactory) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    payload = await invite(paul)
    friends = [await make_harness(user_id=u, name=n) for u, n in ((2, "Zoé"), (3, "Luc"))]
    for friend in friends:
        await join(friend, payload)
    await friends[0].advance(timedelta(minutes=15))
    (digest,) = told(friends[0])
    assert "Arrivé(s) : Zoé, Luc" in digest


async def test_many_alerts_at_once_wait_for_the_daily_digest(
    make_harness: HarnessFactory,
) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    payload = await invite(paul)
    last = paul
    for uid in range(2, 8):  # six friends join within minutes
        last = await make_harness(user_id=uid, name=f"Ami{uid}")
        await join(last, payload)
    await last.advance(timedelta(hours=1))
    assert told(last) == [], "held for the evening digest"
    await last.advance(timedelta(hours=8))  # 18:00 in Paris (17:00 UTC) has passed
    (digest,) = told(last)
    assert digest.count("Ami") == 6 and digest.startswith("Des nouvelles de vos proches")
    when = last.now()
    assert when >= datetime(2026, 1, 5, 17, 0, tzinfo=UTC)


async def test_alerts_per_day_are_capped(make_harness: HarnessFactory) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    payload = await invite(paul)
    friends = []
    for uid in range(2, 6):  # one friend every hour: the 4th in a day goes to the digest
        friends.append(await make_harness(user_id=uid, name=f"Ami{uid}"))
        await join(friends[-1], payload)
        await friends[-1].advance(timedelta(hours=1))
    assert len(told(*friends)) == 3
    await friends[-1].advance(timedelta(days=1))
    assert len(told(*friends)) == 4 and "Ami5" in told(*friends)[-1]


async def test_alerts_off_and_quiet_hours(make_harness: HarnessFactory) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    payload = await invite(paul)
    zoe = await make_harness(user_id=2, name="Zoé")
    zoe.clock.set(datetime(2026, 1, 5, 21, 0, tzinfo=UTC))  # 22:00 in Paris: quiet
    await join(zoe, payload)
    await zoe.advance(timedelta(hours=2))
    assert told(zoe) == []
    await zoe.advance(timedelta(hours=10))  # after 09:00 in Paris
    assert len(told(zoe)) == 1
    await paul.send("/alerts off")
    paul.expect("plus d'alertes sur vos proches")
    luc = await make_harness(user_id=3, name="Luc")
    await join(luc, payload)
    await luc.advance(timedelta(days=2))
    assert told(luc) == []  # nothing more
    async with paul.conversations.store.connection.execute("SELECT count(*) FROM alerts") as c:
        assert await c.fetchone() == (0,), "dropped alerts do not pile up"


async def test_a_friend_who_goes_quiet_is_told_once(make_harness: HarnessFactory) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    zoe = await make_harness(user_id=2, name="Zoé")
    await join(zoe, await invite(paul))
    await zoe.advance(timedelta(days=10))
    await zoe.send("/progress")  # she is back: the quiet spell starts again
    await zoe.advance(timedelta(days=13))
    assert not any("n'est pas revenu" in t for t in told(zoe))
    await zoe.advance(timedelta(days=30))
    dormant = [t for t in told(zoe) if "n'est pas revenu" in t]
    assert len(dormant) == 1 and "depuis 14 jours" in dormant[0] and "appel" in dormant[0]


# -- the referral tree -----------------------------------------------------------------------
async def save_referral(
    store: SqliteStore, friend: int, advocate: int, path: tuple[int, ...]
) -> None:
    state = new_state(friend, "fr", NOW, f"F{friend}")
    await store.save(None, state, [CreditReferral(advocate, f"p{advocate}", path)], {})


async def finish(store: SqliteStore, user_id: int) -> None:
    before = await store.load(user_id)
    assert before is not None
    after = replace(before, completed=frozenset({"E"}))
    await store.save(before, after, [Record("stage_completed", {"stage": "E"})], {})


async def test_tree_counters_people_helped_and_forget(store: SqliteStore) -> None:
    for uid in (1, 2):
        await store.save(None, new_state(uid, "fr", NOW, f"A{uid}"), [], {})
    await save_referral(store, 3, 1, (1,))
    await save_referral(store, 4, 3, (3, 1))  # a friend of a friend
    await save_referral(store, 5, 2, (2,))
    await save_referral(store, 6, 2, (2,))
    for uid in (4, 5, 6):
        await finish(store, uid)
    assert await store.advocates.helped(1) == Helped(friends=1, finished=0, tree=2)
    assert await store.advocates.helped(2) == Helped(friends=2, finished=2, tree=2)
    assert await store.advocates.helped(3) == Helped(friends=1, finished=1, tree=1)
    assert await store.advocates.helped(9) == Helped(), "nobody came through them: all zero"
    await store.forget(4)
    assert await store.advocates.helped(1) == Helped(friends=1, finished=0, tree=1)
    page = await store.advocates.friends_page(3, 8)
    assert (page.total, page.friends) == (0, ())


async def test_people_helped_counts_without_ranking_anyone(make_harness: HarnessFactory) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    zoe = await make_harness(user_id=2, name="Zoé")
    await join(zoe, await invite(paul))
    luc = await make_harness(user_id=3, name="Luc")
    await join(luc, await invite(zoe))  # Zoé invites Luc in turn
    await paul.send("/helped")
    text = plain(paul.last.text)
    assert "Les personnes que vous avez aidées" in text
    assert "Une personne a fait ses premiers pas ici grâce à vous." in text
    assert "Luc" not in text and "Zoé" not in text and "personne d'autre ne le voit" in text
    assert not any(word in text.lower() for word in ("pyramide", "génération", "sommet", "rang"))
    assert [spaced(label) for label in paul.labels] == [
        "Et par leurs invitations ?",
        "Voir mes proches",
    ]
    await paul.press("Et par leurs invitations")  # only if Paul wishes to see them
    assert "Et par elle, une autre personne est arrivée à son tour." in plain(paul.last.text)
    assert paul.labels == ["Voir mes proches"]
    await paul.send("/leaderboard")  # the old name, still understood
    assert plain(paul.last.text).startswith("Les personnes que vous avez aidées")
    anne = await make_harness(user_id=4, name="Anne")
    await anne.send("/leaderboard")
    text = plain(anne.last.text)
    assert "Personne n'est encore arrivé par vos invitations" in text and "Paul" not in text
    assert anne.labels == [], "no toolkit in these dialogs, and no push to invite"


def test_finishing_eduquer_offers_the_toolkit(bundled: DialogSet) -> None:
    """The press that completes Eduquer (found in the dialogs, whatever its path) brings
    a word about the toolkit, once, with a button that opens it."""
    flow = bundled.flows[JOURNEY_STAGE_FLOW]
    for node in flow.nodes.values():
        for button in node.buttons:
            target = bundled.node(button.target)
            if target is None or not target.completes or button.when:
                continue
            state = evolve(new_state(2, "fr", NOW, "Zoé"), flow=flow.id, node=node.id,
                           node_version=node.version, dialog_version=bundled.version)  # fmt: skip
            press = Press(encode_dialog(node.version, flow.id, node.id, button.id))
            after, effects = step(bundled, state, press, NOW)
            offers = [e for e in effects if isinstance(e, Send) and "boîte à outils" in e.text]
            assert JOURNEY_STAGE in after.completed and len(offers) == 1
            assert "votre boîte à outils sera là" in plain(offers[0].text)
            (button_view,) = offers[0].buttons
            assert button_view.label == "Voir la boîte à outils"
            _, effects = step(bundled, after, Press(button_view.data), NOW)
            shown = [plain(e.text) for e in effects if isinstance(e, Send)]
            assert any("Votre boîte à outils" in text for text in shown)
            _, again = step(bundled, after, press, NOW)  # already finished: no second offer
            assert not any(isinstance(e, Send) and "sera là" in e.text for e in again)
            return
    raise AssertionError("no button of Eduquer completes it")


async def test_no_advocate_query_scans_a_table(store: SqliteStore) -> None:
    """/friends and /helped must cost the same at 1,000 or 100,000 users: every
    query reads through an index (bench/advocates.py measures the ratio)."""
    from bot.store.advocates import QUERIES

    for name, query in QUERIES.items():
        args = (1,) * query.count("?")
        async with store.connection.execute(f"EXPLAIN QUERY PLAN {query}", args) as cur:
            steps = [row[3] for row in await cur.fetchall()]
        scans = [s for s in steps if s.startswith("SCAN") and not s.startswith("SCAN (")]
        assert not scans, f"{name}: {steps}"


# -- what the review found: privacy of counts, /forget of an advocate, odd inputs ---------
async def counters(store: SqliteStore, user_id: int) -> tuple[int, ...]:
    async with store.connection.execute(
        "SELECT friends, finished, tree, tree_finished FROM advocates WHERE user_id = ?",
        (user_id,),
    ) as cur:
        row = await cur.fetchone()
    return tuple(row) if row else ()


async def test_a_friend_who_stopped_sharing_is_not_counted_as_finished(
    store: SqliteStore,
) -> None:
    await store.save(None, new_state(1, "fr", NOW, "Paul"), [], {})
    await save_referral(store, 2, 1, (1,))
    zoe = await store.load(2)
    assert zoe is not None
    await store.save(zoe, ADVOCACY.update(zoe, shares=False), [], {})
    await finish(store, 2)
    assert await counters(store, 1) == (1, 0, 1, 0), "finished while private: not counted"
    zoe = await store.load(2)
    assert zoe is not None
    await store.save(zoe, ADVOCACY.update(zoe, shares=True), [], {})
    assert await counters(store, 1) == (1, 1, 1, 1)
    await store.save(zoe, ADVOCACY.update(zoe, shares=False), [], {})
    assert await counters(store, 1) == (1, 0, 1, 0)


async def test_an_advocate_who_leaves_leaves_no_trace_and_counts_stay_right(
    store: SqliteStore,
) -> None:
    for uid in (1, 2):  # Z, A
        await store.save(None, new_state(uid, "fr", NOW, f"U{uid}"), [], {})
    await save_referral(store, 2, 1, (1,))  # A joined through Z
    await save_referral(store, 3, 2, (2, 1))  # B through A
    await save_referral(store, 4, 3, (3, 2, 1))  # C through B
    assert await counters(store, 1) == (1, 0, 3, 0)
    await store.forget(2)  # A leaves
    assert await counters(store, 1) == (0, 0, 2, 0), "A left Z's tree, B and C stay in it"
    async with store.connection.execute("SELECT friend_id, advocate_id, path FROM referrals") as c:
        rows = await c.fetchall()
    assert rows == [(3, None, "[1]"), (4, 3, "[3,1]")], "A's id is gone from every chain"
    b = await store.load(3)
    assert b is not None and ADVOCACY.of(b).referrer is None
    await finish(store, 4)
    assert await counters(store, 1) == (0, 0, 2, 1)
    await store.forget(3)  # B leaves too
    assert await counters(store, 1) == (0, 0, 1, 1)
    await store.forget(4)
    assert await counters(store, 1) == (0, 0, 0, 0)


async def test_odd_inputs_to_the_dashboard(make_harness: HarnessFactory) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    personal = await invite(paul)
    assert await invite(paul, "🙂 ???") == personal, "a name without letters: the personal link"
    await invite(paul, "Tom & <b>Jerry</b>")
    await paul.send("/invites")
    assert any(
        spaced(label).startswith("Supprimer : Tom & <b>Jerry</b> (") for label in paul.labels
    )
    assert "Tom &amp; &lt;b&gt;Jerry&lt;/b&gt;" in paul.last.text
    await paul.send("/invite " + "x" * 500)
    assert "x" * 32 in paul.last.text and "x" * 33 not in paul.last.text
    zoe = await make_harness(user_id=2, name="Zoé")
    await join(zoe, personal)
    for forged in ("n2_1_99999999999999999999", "n2_1_999999999999999999", "p0_1_1", "zz"):
        await paul.press_data(f"!friends:{forged}")
        assert "Vos proches invités : 1" in plain(paul.last.text) and "Zoé" in paul.last.text
    await paul.press_data("!privacy:everything_on")
    paul.expect("Ce bouton a expiré")


async def test_mydata_tells_nothing_about_codes_or_other_peoples_ids(
    make_harness: HarnessFactory,
) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    payload = await invite(paul)
    await paul.send("/invites")
    await paul.press(1)  # revoked
    zoe = await make_harness(user_id=2, name="Zoé")
    await join(zoe, payload)
    luc = await make_harness(user_id=3, name="Luc")
    await join(luc, "Z" * 22)  # never existed
    store = zoe.conversations.store
    for uid in (2, 3):
        data = await store.export(uid)
        links = [e["data"] for e in data["events"] if e["name"] == "invite_link"]
        assert links == [{"credited": False}]
    anne = await make_harness(user_id=4, name="Anne")
    await join(anne, await invite(paul))
    exported = await store.export(4)
    assert exported["referrals"] and "path" not in exported["referrals"][0]


async def test_one_bad_turn_does_not_fail_the_turns_saved_with_it(store: SqliteStore) -> None:
    import asyncio

    from bot.core.events import ScheduleNudge
    from bot.features.advocates.effects import CreateInvite
    from bot.features.advocates.records import Invitation

    taken = Invitation("a" * 22, "ABCDE12345", 1)
    await store.save(None, new_state(1, "fr", NOW), [CreateInvite(taken)], {})
    clash = CreateInvite(replace(taken, payload="b" * 22))  # the same typed code
    twice = [ScheduleNudge("followup", NOW), ScheduleNudge("followup", NOW + timedelta(days=1))]
    results = await asyncio.gather(
        store.save(None, new_state(2, "fr", NOW), twice, {}),  # twice the same key: fine
        store.save(None, new_state(3, "fr", NOW), [clash], {}),
        store.save(None, new_state(4, "fr", NOW), [], {}),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], Exception)
    assert await store.load(2) is not None and await store.load(4) is not None
    assert await store.next_due() == NOW + timedelta(days=1)


# -- the toolkit: the invitation for a friend without Telegram, the cards, privacy --------
async def test_an_invitation_to_send_by_text_message_says_how_to_get_telegram(
    make_harness: HarnessFactory,
) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    payload = await invite(paul, "Marie")
    assert paul.labels == ["Partager l'invitation", "Par SMS ou e-mail", "Mes invitations"]
    await paul.press("Par SMS ou e-mail")
    letter = plain(paul.last.text)
    assert "<pre>" in paul.last.text, "in a block the advocate copies with one tap"
    assert letter.startswith("L'invitation pour Marie, à envoyer par SMS ou par e-mail")
    assert "Bonjour Marie, c'est Paul." in letter and f"start={payload}" in letter
    assert "App Store (iPhone) ou le Play Store (Android)" in letter and "Telegram" in letter
    code = re.search(r"écris ce code : ([0-9A-Z]{5}-[0-9A-Z]{5})", letter)
    assert code and "@VieCoachBot" in letter
    await paul.send("/invites")
    await paul.press("Supprimer")  # revoked: its letter is no longer given
    await paul.press_data(f"!letter:{code.group(1).replace('-', '')}")
    assert "Ce lien n'existe plus" in plain(paul.last.text)
    zoe = await make_harness(user_id=2, name="Zoé")
    mine = re.search(r"<code>([0-9A-Z-]+)</code>", (await zoe.send("/invite"))[-1].text)
    assert mine
    await paul.press_data(f"!letter:{mine.group(1).replace('-', '')}")  # someone else's
    assert "Ce lien n'existe plus" in plain(paul.last.text)


async def test_the_toolkit_and_a_card_for_a_friends_doubt(
    make_harness: HarnessFactory, bundled: DialogSet
) -> None:
    paul = await make_harness(dialogs=bundled, user_id=1, name="Paul")
    await paul.send("/start")
    await paul.send("/toolkit")
    assert "Votre boîte à outils" in plain(paul.last.text)
    assert "Terminer l'étape V" not in paul.labels, "only for someone on the V path"
    await paul.press("Préparer la visite")
    text = plain(paul.last.text)
    assert "80 %" in text and "Wi-Fi" in text and "Apple ou Google" in text and "e-mails" in text
    await paul.press("Et s'il reste un doute")
    await paul.press("pour les jeunes")
    card = bundled.facts["users_growth"]
    text = plain(paul.last.text)
    assert spaced(card.text["fr"]) in text and f"Source : {card.source}, {card.year}" in text
    assert f'<a href="{card.url}">' in paul.last.text
    await paul.press("Revenir à la boîte à outils")
    await paul.send("elle est trop vieille pour ça")  # the friend's own words, typed
    assert "« C'est pour les jeunes »" in plain(paul.last.text)
    await paul.send("les arnaques")  # another doubt, typed at a card: its own card
    assert "« J'ai peur des arnaques »" in plain(paul.last.text)
    await paul.send("il a peur de passer trop de temps sur les écrans")
    assert "je préfère ne pas en inventer" in plain(paul.last.text), "no card without a fact"
    await paul.send("ma sœur n'a pas telegram")  # typed anywhere
    assert "Par SMS ou e-mail" in plain(paul.last.text)


async def test_toolkit_where_the_dialogs_have_none(make_harness: HarnessFactory) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    await paul.send("/toolkit")
    assert "inconnue : /toolkit" in plain(paul.last.text)
    await paul.press_data("!toolkit:open")
    paul.expect("Ce bouton a expiré")


async def test_privacy_says_exactly_what_is_shared(make_harness: HarnessFactory) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    zoe = await make_harness(user_id=2, name="Zoé")
    await join(zoe, await invite(paul))
    await zoe.send("/privacy")
    text = plain(zoe.last.text)
    assert "Paul voit où vous en êtes, étape par étape" in text and "dernière visite" in text
    assert "Personne d'autre ne voit votre avancement" in text and "tableau" not in text
    assert zoe.labels == ["Ne plus partager mon avancement"]
    await zoe.press_data("!privacy:public_on")  # the old leaderboard's button: expired
    zoe.expect("Ce bouton a expiré")
    anne = await make_harness(user_id=3, name="Anne")
    await anne.send("/privacy")
    assert "Personne ne voit votre avancement" in plain(anne.last.text) and anne.labels == []


def walk_v(dialogs: DialogSet, choices: list[str]) -> tuple[UserState, str]:
    """From the V path's start, press each button (by part of its label) or, for a choice
    written "typed: …", type it; the state and the plain text of the last message."""
    start = dialogs.start_of("viraliser")
    node = dialogs.node(start)
    assert node is not None
    state = evolve(new_state(1, "fr", NOW, "Paul"), flow=node.flow, node=node.id,
                   node_version=node.version, dialog_version=dialogs.version)  # fmt: skip
    state, effects = step(dialogs, state, Text("ok"), NOW)  # yes: the first step
    for choice in choices:
        sends = [e for e in effects if isinstance(e, Send)]
        if choice.startswith("typed: "):
            event: Press | Text = Text(choice.removeprefix("typed: "))
        else:
            buttons = [b for s in sends for b in s.buttons if choice in spaced(b.label)]
            assert buttons, f"no button {choice!r} at {state.node}: {sends[-1].buttons}"
            event = Press(buttons[0].data)
        state, effects = step(dialogs, state, event, NOW)
    sends = [e for e in effects if isinstance(e, Send)]
    return state, plain(sends[-1].text)


def test_the_end_of_the_v_path_praises_only_what_was_done(bundled: DialogSet) -> None:
    state, text = walk_v(bundled, ["Pas vraiment", "Et ensuite", "typed: plus tard",
                                   "Je préfère attendre", "Une passion", "Je me lance",
                                   "Pas aujourd'hui", "Voir la suite quand même", "Continuer",
                                   "Personne pour l'instant", "D'accord"])  # fmt: skip
    assert state.node == "done" and "V" in state.completed
    assert "Vous avez parcouru le chemin V, à votre rythme." in text
    assert "premier message" not in text and "premier partage" not in text
    assert "v_like" not in state.milestones, "a skipped gesture is not counted as made"
    state, text = walk_v(bundled, ["Oui, je vois qui", "Et ensuite", "C'est fait", "C'est partagé",
                                   "Mon métier", "Je me lance", "C'est publié", "Et ensuite",
                                   "Continuer", "J'ai quelqu'un en tête",
                                   "Ouvrir la boîte à outils", "Terminer l'étape V"])  # fmt: skip
    assert "un premier partage, un premier message, et l'envie de transmettre" in text
    assert "V" in state.completed and "v_like" in state.milestones
