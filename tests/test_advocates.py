"""The advocate's side: invitations, /friends, privacy, alerts and the referral tree."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app.bootstrap import standard_features, with_features
from bot.core.dialogset import DialogSet
from bot.core.events import Record
from bot.core.render import to_plain
from bot.core.state import new_state
from bot.features.advocates.effects import CreditReferral
from bot.features.advocates.records import AdvocatePolicy
from bot.features.advocates.state import ADVOCACY
from bot.runtime.conversation import Conversations, Person
from bot.store import SqliteStore
from bot.testing import ChatHarness, FakeClock

from .conftest import HarnessFactory
from .journeys import path_to_complete

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def invite(paul: ChatHarness, name: str = "") -> str:
    await paul.send(f"/invite {name}".strip())
    found = re.search(r"start=([A-Za-z0-9_-]{22})", paul.last.text)
    assert found, paul.last.text
    return found.group(1)


async def join(friend: ChatHarness, payload: str) -> None:
    await friend.send(f"/start {payload}")


def told(*harnesses: ChatHarness) -> list[str]:
    """Plain texts of the alerts delivered to Paul (user 1) by these harnesses' `advance`."""
    return [to_plain(s.text) for h in harnesses for s in h.others.get(1, [])]


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
    text = to_plain(paul.last.text)
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
    zoe.expect("ne voit plus votre avancement")
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


async def test_tree_counters_leaderboard_and_forget(store: SqliteStore) -> None:
    for uid in (1, 2):
        await store.save(None, new_state(uid, "fr", NOW, f"A{uid}"), [], {})
    await save_referral(store, 3, 1, (1,))
    await save_referral(store, 4, 3, (3, 1))  # a friend of a friend
    await save_referral(store, 5, 2, (2,))
    await save_referral(store, 6, 2, (2,))
    for uid in (4, 5, 6):
        await finish(store, uid)
    board = await store.advocates.leaderboard(1)
    ranks = [(leader.user_id, leader.tree_finished, leader.finished, leader.depth)
             for leader in board.top]  # fmt: skip
    # ties on the whole tree go to direct friends: 3 brought the finisher in herself
    assert ranks == [(2, 2, 2, 1), (3, 1, 1, 1), (1, 1, 0, 2)]
    assert board.me is not None and (board.me.friends, board.me.depth) == (1, 2)
    await store.forget(4)
    board = await store.advocates.leaderboard(1)
    assert [(leader.user_id, leader.tree_finished) for leader in board.top] == [(2, 2)]
    page = await store.advocates.friends_page(3, 8)
    assert (page.total, page.friends) == (0, ())


async def test_leaderboard_names_only_those_who_chose_it(make_harness: HarnessFactory) -> None:
    paul = await make_harness(user_id=1, name="Paul")
    store = paul.conversations.store
    await paul.send("/start")
    await save_referral(store, 3, 1, (1,))
    await finish(store, 3)
    anne = await make_harness(user_id=2, name="Anne")
    await anne.send("/leaderboard")
    assert "Sommet de la pyramide : ambassadeur discret" in to_plain(anne.last.text)
    await paul.send("/privacy")
    await paul.press("Afficher mon prénom")
    await anne.send("/leaderboard")
    assert "Sommet de la pyramide : Paul — 1 (1 en direct" in to_plain(anne.last.text)
    await paul.send("/leaderboard")
    assert "Paul (vous)" in paul.last.text


async def test_finishing_eduquer_offers_to_become_an_advocate(
    tmp_path: Path, bundled: DialogSet
) -> None:
    from bot.store import open_store

    store = await open_store(tmp_path / "b.db")
    try:
        conversations = Conversations(bundled, store, "fr")
        zoe = ChatHarness(conversations, Person(2, "Zoé", "fr"), FakeClock())
        await zoe.send("/start")
        for label in path_to_complete(bundled, "fr", frozenset({"E"})):
            await zoe.press(label)
        zoe.expect("Et si, à votre tour, vous tendiez la main")
        await zoe.press("Mon lien d'invitation")
        assert "start=" in zoe.last.text
    finally:
        await store.close()


async def test_no_advocate_query_scans_a_table(store: SqliteStore) -> None:
    """/friends and /leaderboard must cost the same at 1,000 or 100,000 users: every
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
    assert any(label.startswith("Supprimer : Tom & <b>Jerry</b> (") for label in paul.labels)
    assert "Tom &amp; &lt;b&gt;Jerry&lt;/b&gt;" in paul.last.text
    await paul.send("/invite " + "x" * 500)
    assert "x" * 32 in paul.last.text and "x" * 33 not in paul.last.text
    zoe = await make_harness(user_id=2, name="Zoé")
    await join(zoe, personal)
    for forged in ("n2_1_99999999999999999999", "n2_1_999999999999999999", "p0_1_1", "zz"):
        await paul.press_data(f"!friends:{forged}")
        assert "Vos proches invités : 1" in paul.last.text and "Zoé" in paul.last.text
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
