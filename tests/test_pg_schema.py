"""The PostgreSQL schema (bot/store/pg_migrations) against SQLite's: the same tables,
columns, indexes, views and triggers, ISO times read to the bit, the same rows in every
table after the same turns (compared after each step), and exact counters under concurrent
writers. Runs on the run's throwaway server (tests/conftest.py `pg_server`)."""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest

from bot.core.events import CancelNudge, Effect, KeepUnknown, Record, ScheduleNudge, Send
from bot.core.state import UserState, new_state
from bot.features.advocates import effects as fx
from bot.features.advocates.records import Invitation
from bot.features.advocates.state import ADVOCACY
from bot.features.nudges.state import NUDGES
from bot.store import SqliteStore
from bot.store.pg_opening import pg_migrations
from bot.store.queues import NO_DELIVERY, Delivery, Outgoing, from_ms, to_ms
from bot.store.rows import INSERT_TURN, in_column_order, turn_row
from bot.testing.pgserver import PgServer

SCHEMAS = [sql for _, sql in pg_migrations()]  # 0001 and every migration after it
PG_TURN = INSERT_TURN.replace("?", "%s")
MILESTONE_STAGE = {"v_done": "V", "i_hidden": "I", "i_done": "I", "e_done": "E"}
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HELPER_VIEWS = {"funnel_add", "funnel_place", "funnel_returns"}  # functions in PostgreSQL
# SQLite reuses a rowid table's largest id once its row is gone; an identity never goes back
ROWID_TABLES = {"events", "alerts", "unknown_texts", "dialog_served"}
say = Outgoing.message
NODES = ("welcome.menu", "welcome.bye", "informer.intro", "informer.hidden", "viraliser.done",
         "eduquer.done")  # fmt: skip


@pytest.fixture(scope="module")
def schema_db(pg_server: PgServer) -> Iterator[str]:
    """A new database holding the schema, for this module; dropped after it."""
    server = pg_server.url()
    admin = psycopg.connect(server, autocommit=True, connect_timeout=5)
    name = f"h1_schema_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = psycopg.conninfo.make_conninfo(server, dbname=name)
            with psycopg.connect(url, autocommit=True) as db:
                for sql in SCHEMAS:
                    db.execute(sql)
            yield url
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _base_tables(db: psycopg.Connection) -> list[str]:
    query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
    return [r[0] for r in db.execute(query)]


@pytest.fixture
def pg(schema_db: str) -> Iterator[psycopg.Connection]:
    """A connection to the schema's database, every table emptied (ids from 1 again)."""
    with psycopg.connect(schema_db, autocommit=True) as db:
        db.execute(f"TRUNCATE {', '.join(_base_tables(db))} RESTART IDENTITY CASCADE")
        yield db


async def test_same_tables_columns_indexes_views_and_triggers(
    store: SqliteStore, pg: psycopg.Connection
) -> None:
    lite = [tuple(r) for r in await store.fetch_all(
        "SELECT type, name, tbl_name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")]  # fmt: skip
    names = {kind: {r[1] for r in lite if r[0] == kind} for kind in ("table", "view", "index")}
    assert set(_base_tables(pg)) == names["table"]
    views = "SELECT viewname FROM pg_views WHERE schemaname = current_schema()"
    assert {r[0] for r in pg.execute(views)} == names["view"] - HELPER_VIEWS
    indexes = """SELECT indexname FROM pg_indexes i WHERE schemaname = current_schema()
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)"""
    assert {r[0] for r in pg.execute(indexes)} == names["index"]
    triggers = {r[0] for r in pg.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
    assert triggers == {r[1] for r in lite if r[0] == "trigger" and r[2] not in HELPER_VIEWS}
    columns = """SELECT column_name, is_nullable = 'NO', split_part(column_default, '::', 1)
                 FROM information_schema.columns WHERE table_name = %s
                 AND table_schema = current_schema() ORDER BY ordinal_position"""
    for table in sorted(names["table"] | names["view"] - HELPER_VIEWS):
        # name, NOT NULL (a primary key's, whatever SQLite says), default
        want = [(r[1], bool(r[3] or r[5]), r[4])
                for r in await store.fetch_all(f"PRAGMA table_info({table})")]  # fmt: skip
        assert [tuple(r) for r in pg.execute(columns, (table,))] == want, table


async def test_iso_times_read_as_sqlite_reads_them(pg: psycopg.Connection) -> None:
    """Milliseconds, julianday and day of ISO-8601 texts, to the bit (a span's bucket
    edge depends on it): random times, half milliseconds, offsets, no offset."""
    rng = random.Random(7)
    texts = ["2026-03-01T23:59:59.999600+00:00", "2026-03-01T10:00:00.000500+00:00",
             "2026-03-01T12:00:00", "2026-03-01T12:00:00.5+00:00", "2026-03-02T01:00:00+02:00"]  # fmt: skip
    for i in range(3000):
        offset = timezone(timedelta(minutes=rng.choice([0, 0, 60, -300, 330])))
        moment = datetime(2025, 1, 1, tzinfo=offset) + timedelta(seconds=rng.randrange(10**8))
        us = rng.randrange(10**6) if i % 2 else rng.randrange(1000) * 1000 + 500
        texts.append(moment.replace(microsecond=us).isoformat())
    lite = sqlite3.connect(":memory:")
    want = [lite.execute("SELECT CAST(round((julianday(?) - 2440587.5) * 86400000) AS INTEGER),"
                         " julianday(?), date(?)", (t, t, t)).fetchone() for t in texts]  # fmt: skip
    got = pg.execute("SELECT iso_ms(t), iso_julianday(t), iso_day(t) FROM unnest(%s::text[])"
                     " WITH ORDINALITY AS u(t, i) ORDER BY i", (texts,))  # fmt: skip
    assert [tuple(r) for r in got] == want


# -- the same history on both stores ------------------------------------------------------------
def at(days: float = 0, hours: float = 0, minutes: float = 0, us: int = 0) -> datetime:
    return T0 + timedelta(days=days, hours=hours, minutes=minutes, microseconds=us)


def step(
    before: UserState | None, uid: int, when: datetime, *, own: bool = True, lang: str = "fr",
    node: str | None = None, reach: tuple[str, ...] = (), complete: tuple[str, ...] = (),
    nudges: dict[str, Any] | None = None, advocacy: dict[str, Any] | None = None,
) -> UserState:  # fmt: skip
    """The person's state after a turn at `when` (`own`: their own action)."""
    after = replace(before or new_state(uid, lang, when, f"P{uid}"), updated_at=when)
    if own:
        after = replace(after, active_at=when)
    if node is not None:
        flow, _, name = node.partition(".")
        after = replace(after, flow=flow, node=name)
    after = replace(after, milestones=after.milestones | set(reach),
                    completed=after.completed | set(complete))  # fmt: skip
    after = NUDGES.update(after, **(nudges or {}))
    return ADVOCACY.update(after, **(advocacy or {}))


class Both:
    """The same turns and statements on a SQLite store and a PostgreSQL database, every
    table compared after each step (ids of ROWID_TABLES only until a person is erased)."""

    def __init__(self, store: SqliteStore, pg: psycopg.Connection) -> None:
        self.store, self.pg = store, pg
        self.states: dict[int, UserState] = {}
        self.tables = _base_tables(pg)
        self.same_ids = True

    async def turn(self, uid: int, when: datetime, *effects: Effect, **kw: Any) -> None:
        before, delivery = self.states.get(uid), kw.pop("delivery", NO_DELIVERY)
        after = step(before, uid, when, **kw)
        await self.store.save(before, after, effects, MILESTONE_STAGE, delivery)
        row = turn_row(before, after, effects, MILESTONE_STAGE, delivery)
        assert self.pg.execute(PG_TURN, in_column_order(row)).rowcount == 1
        self.states[uid] = after
        await self.check()

    async def sql(self, query: str, *args: Any) -> None:
        await self.store.write((query, [args]))
        self.pg.execute(query.replace("?", "%s"), args)
        self.same_ids = self.same_ids and not query.startswith("DELETE FROM users")
        await self.check()

    async def check(self) -> None:
        for table in self.tables:
            cut = 0 if self.same_ids or table not in ROWID_TABLES else 1
            lite = [tuple(r)[cut:] for r in await self.store.fetch_all(f"SELECT * FROM {table}")]
            post = [tuple(r)[cut:] for r in self.pg.execute(f"SELECT * FROM {table}")]
            diff = f"{table}: SQLite only {set(lite) - set(post)}, PG only {set(post) - set(lite)}"
            assert sorted(post, key=repr) == sorted(lite, key=repr), diff

    def one(self, query: str, *args: Any) -> Any:
        return self.pg.execute(query, args).fetchone()


async def test_a_history_leaves_the_same_rows_in_every_table(
    store: SqliteStore, pg: psycopg.Connection
) -> None:
    both = Both(store, pg)
    # Anne: someone new, her update settled and her replies queued, a reminder scheduled
    await both.sql("INSERT INTO inbox (update_id, owner, body, received_ms) VALUES (?, ?, ?, ?)",
                   101, 1, '{"update_id":101}', to_ms(at()))  # fmt: skip
    text = 'Bonjour Anne !\nÇa va ? "oui" \\ 🎉'
    await both.turn(1, at(), Record("start", {"invited": False, "é": [1, 2.5]}),
                    ScheduleNudge("followup", at(2)), node="welcome.menu",
                    delivery=Delivery(101, (say(1, Send(text)), say(1, Send("?")))))  # fmt: skip
    assert both.one("SELECT body, done_ms FROM inbox") == (None, to_ms(at()))
    assert both.one("SELECT count(*) FROM funnel_counts WHERE metric = 'started'") == (2,)
    # she invites, and her reminder moves
    await both.turn(1, at(minutes=5), CancelNudge("followup"), ScheduleNudge("followup", at(3)),
                    fx.CreateInvite(Invitation("pA", "CODEA", 1, name="Marie")),
                    fx.CreateInvite(Invitation("pA2", "CODEB", 1)),
                    Record("press", {"node": "welcome.menu", "button": "inform"}),
                    KeepUnknown("informer.intro", "fr", "Euh"), KeepUnknown("informer.intro", "fr", "zut"),
                    node="informer.intro", reach=("i_hidden",))  # fmt: skip
    # Bruno arrives through her link; his V takes exactly an hour (a bucket's edge)
    await both.turn(2, at(hours=1), Record("start", {"invited": True}),
                    KeepUnknown("informer.intro", "fr", "euh"),
                    fx.CreditReferral(1, "pA", (1,)), fx.Notify(1, "joined", None, at(hours=2)),
                    lang="en", node="welcome.menu")  # fmt: skip
    await both.turn(2, at(hours=2), fx.Notify(1, "stage", "V", at(hours=3)),
                    fx.CreateInvite(Invitation("pB", "CODEC", 2)),
                    ScheduleNudge("followup", at(1, hours=2)),
                    node="viraliser.done", reach=("v_done",), complete=("V",))  # fmt: skip
    assert both.one("SELECT friends, tree, depth FROM advocates WHERE user_id = 1") == (1, 1, 1)
    # Chloé, Bruno's friend: two generations under Anne. Anne's alerts are in flight when
    # Chloé's alert comes: pending again, at the new time. Exposures: the first one wins
    await both.sql("UPDATE nudges SET lease_ms = ?, attempts = attempts + 1 WHERE user_id = 1"
                   " AND key = 'alerts'", to_ms(at(hours=4)))  # fmt: skip
    shown = [{"experiment": "menu", "arm": arm, "outcome": "stage:E"} for arm in "ba"]
    await both.turn(3, at(hours=3, us=123500), fx.CreditReferral(2, "pB", (2, 1)),
                    fx.Notify(2, "joined", None, at(hours=4)),
                    fx.Notify(1, "joined", None, at(hours=5)),
                    KeepUnknown("welcome.menu", "fr", "Bonjour ?"),
                    *(Record("exposure", d) for d in [*shown, {"experiment": "menu2"}, {}]),
                    node="welcome.menu")  # fmt: skip
    assert both.one("SELECT due_ms, lease_ms FROM nudges WHERE user_id = 1 AND key = 'alerts'"
                    ) == (to_ms(at(hours=5)), 0)  # fmt: skip
    assert both.one("SELECT experiment, arm FROM exposures") == ("menu", "b")
    assert both.one("SELECT depth, tree FROM advocates WHERE user_id = 1") == (2, 2)
    # the next day Chloé completes every stage at once and finishes; hides it, shows it
    await both.turn(3, at(1, hours=-1), fx.Notify(2, "stage", "E", at(1)), node="eduquer.done",
                    reach=("v_done", "i_done", "e_done"), complete=("V", "I", "E"))  # fmt: skip
    assert both.one("SELECT array_agg(tree_finished ORDER BY user_id), sum(finished) FROM advocates"
                    " WHERE user_id IN (1, 2)") == ([1, 1], 1)  # fmt: skip
    await both.turn(3, at(1), KeepUnknown("eduquer.done", "fr", "Bonjour ?"),
                    advocacy={"shares": False})  # fmt: skip
    # Anne pressed at the menu; Bruno and Chloé only stood there, and moved on
    assert both.one("SELECT n FROM funnel_reach WHERE node = 'welcome.menu'") == (1,)
    # pruning the oldest texts not understood: the group's min ("Euh") goes, "euh" stays
    await both.sql("DELETE FROM unknown_texts WHERE at_ms < ?", to_ms(at(minutes=30)))
    kept = both.one("SELECT text, n FROM unknown_counts WHERE node = 'informer.intro'")
    assert kept == ("euh", 1)
    assert both.one("SELECT count(*) FROM unknown_counts") == (3,)
    assert both.one("SELECT finished, tree_finished FROM advocates WHERE user_id = 2") == (0, 0)
    await both.turn(3, at(1, minutes=10), advocacy={"shares": True})
    # Bruno's reminder: claimed, sent by a turn that is not his own action, then he comes
    # back within the day (a return, on a new day of activity)
    due = at(1, hours=2)
    await both.sql("UPDATE nudges SET lease_ms = ?, attempts = attempts + 1 WHERE user_id = 2"
                   " AND key = 'followup'", to_ms(due + timedelta(minutes=1)))  # fmt: skip
    await both.turn(2, due, Record("nudge_sent", {"key": "followup"}), own=False,
                    nudges={"sent": (due,), "ignored_in_a_row": 1},
                    delivery=Delivery(nudge_done=("followup", due),
                                      outgoing=(say(2, Send("On reprend ?"), "nudge"),)))  # fmt: skip
    assert both.one("SELECT count(*) FROM nudges WHERE user_id = 2 AND key = 'followup'") == (0,)
    await both.turn(2, due + timedelta(hours=1), node="informer.intro",
                    nudges={"ignored_in_a_row": 0})  # fmt: skip
    assert both.one("SELECT funnel_back FROM users WHERE user_id = 2") == (1,)
    # Denis stops reminders from the start, is credited late by Bruno, restarts them
    await both.turn(4, at(1, hours=4), node="welcome.menu", lang="en",
                    nudges={"reminders": False}, reach=("i_hidden",))  # fmt: skip
    await both.turn(4, at(2), fx.CreditReferral(2, "pB", (2, 1)), nudges={"reminders": True},
                    node="informer.intro")  # fmt: skip
    # Anne reads her alerts (her claimed delivery done) and revokes a link
    ids = tuple(r[0] for r in await store.fetch_all("SELECT id FROM alerts WHERE advocate_id = 1"))
    await both.sql("UPDATE nudges SET lease_ms = ? WHERE user_id = 1 AND key = 'alerts'",
                   to_ms(at(2, hours=1)))  # fmt: skip
    (alerts_due,) = both.one("SELECT due_ms FROM nudges WHERE user_id = 1 AND key = 'alerts'")
    await both.turn(1, at(2, minutes=30), fx.AckAlerts(ids), fx.RevokeInvite("pA2"), own=False,
                    delivery=Delivery(nudge_done=("alerts", from_ms(alerts_due))))  # fmt: skip
    assert both.one("SELECT count(*) FROM alerts WHERE advocate_id = 1") == (0,)
    # a broadcast: one row accepted (its recipient sent), one dropped (refused first)
    await both.sql("INSERT INTO broadcasts (texts, default_lang, state, per_second, created_ms)"
                   " VALUES (?, 'fr', 'running', 2.5, ?)", '{"fr":"Salut"}', to_ms(at(2)))  # fmt: skip
    for uid in (2, 4):
        await both.sql("INSERT INTO broadcast_recipients (broadcast_id, user_id, state)"
                       " VALUES (1, ?, 'queued')", uid)  # fmt: skip
        await both.sql("INSERT INTO outbox (chat_id, kind, body, created_ms) VALUES"
                       " (?, 'broadcast', ?, 1)", uid, '{"broadcast":1,"text":"Salut"}')  # fmt: skip
    await both.sql("UPDATE broadcast_recipients SET state = 'refused' WHERE user_id = 4")
    await both.sql("DELETE FROM outbox WHERE kind = 'broadcast'")
    states = await store.fetch_all("SELECT user_id, state FROM broadcast_recipients")
    assert sorted(map(tuple, states)) == [(2, "sent"), (4, "refused")]
    # /forget: the finished friend, then the advocate at the top of every chain
    await both.sql("DELETE FROM users WHERE user_id = ?", 3)
    assert both.one("SELECT friends, finished, tree, tree_finished FROM advocates"
                    " WHERE user_id = 2") == (1, 0, 1, 0)  # fmt: skip
    await both.sql("DELETE FROM users WHERE user_id = ?", 1)
    assert both.one("SELECT advocate_id, path FROM referrals WHERE friend_id = 4") == (2, "[2]")
    assert both.one("SELECT sum(n) FROM funnel_counts WHERE metric = 'erased'") == (4,)
    assert both.one("SELECT count(*) FROM reached_nodes WHERE user_id IN (1, 3)") == (0,)


async def test_a_random_history_leaves_the_same_rows(
    store: SqliteStore, pg: psycopg.Connection
) -> None:
    """Twelve people over a fortnight: moves, milestones, stages (several at once), switches,
    reminders sent and followed, referrals at the start and late, exposures, erasures."""
    rng = random.Random(2026)
    both, now, gone = Both(store, pg), T0, set()
    for _ in range(160):
        now += timedelta(minutes=rng.choice([1, 7, 50, 300, 1440, 2000]),
                         microseconds=rng.randrange(10**6))  # fmt: skip
        uid = rng.randrange(1, 13)
        if uid in gone:
            continue
        state, effects = both.states.get(uid), []
        others = [u for u in both.states if u != uid]
        credited = both.one("SELECT 1 FROM referrals WHERE friend_id = %s", uid) is not None
        if others and not credited and rng.random() < (0.5 if state is None else 0.1):
            adv = rng.choice(others)
            (path,) = both.one("SELECT coalesce(min(path), '[]') FROM referrals"
                               " WHERE friend_id = %s", adv)  # fmt: skip
            chain = (adv, *(int(i) for i in path.strip("[]").split(",") if i))
            effects += [
                fx.CreditReferral(adv, f"p{adv}", chain),
                fx.Notify(adv, "joined", None, now),
            ]
        if state is None:
            effects.append(fx.CreateInvite(Invitation(f"p{uid}", f"C{uid}", uid)))
            await both.turn(uid, now, Record("start", {}), *effects, lang=rng.choice(["fr", "en"]),
                            node=rng.choice(NODES), nudges={"reminders": rng.random() < 0.8})  # fmt: skip
            continue
        kind = rng.choice(["move"] * 4 + ["reminders", "shares", "nudge", "expose", "forget"]
                          + ["talk"] * 3 + ["prune"])  # fmt: skip
        if kind == "forget" and rng.random() < 0.5:
            await both.sql("DELETE FROM users WHERE user_id = ?", uid)
            gone.add(uid)
            del both.states[uid]
        elif kind == "nudge":
            sent = tuple(t for t in NUDGES.of(state).sent if t > now - timedelta(days=7))
            await both.turn(uid, now, Record("nudge_sent", {}), *effects, own=False,
                            nudges={"sent": (*sent, now)})  # fmt: skip
        elif kind == "reminders":
            await both.turn(
                uid, now, *effects, nudges={"reminders": not NUDGES.of(state).reminders}
            )
        elif kind == "shares":
            await both.turn(uid, now, *effects, advocacy={"shares": not ADVOCACY.of(state).shares})
        elif kind == "expose":
            data = {"experiment": "e", "arm": rng.choice("ab"), "outcome": "stage:V"}
            await both.turn(uid, now, Record("exposure", data), *effects, node=rng.choice(NODES))
        elif kind == "talk":
            where = f"{state.flow}.{state.node}"
            said = [KeepUnknown(where, state.lang, rng.choice(["Euh", "euh", "EUH", "zut"]))
                    for _ in range(rng.randrange(3))]  # fmt: skip
            await both.turn(uid, now, Record(rng.choice(["press", "fallback", "command"]),
                                             {"node": where}), *said, *effects,
                            node=rng.choice(NODES))  # fmt: skip
        elif kind == "prune":
            await both.sql("DELETE FROM unknown_texts WHERE at_ms < ?",
                           to_ms(now - timedelta(days=2)))  # fmt: skip
        else:
            reach = tuple(rng.sample(sorted(MILESTONE_STAGE), rng.randrange(3)))
            complete = tuple(rng.sample(["V", "I", "E"], rng.choice([0, 0, 1, 1, 2, 3])))
            await both.turn(uid, now, *effects, node=rng.choice(NODES), reach=reach,
                            complete=complete)  # fmt: skip
    assert gone and both.one("SELECT count(*) FROM advocates WHERE tree_finished > 0")[0] > 0
    assert both.one("SELECT count(*) FROM funnel_counts WHERE metric LIKE 'g:%%'")[0] > 0
    assert both.one("SELECT count(*) FROM unknown_counts WHERE n > 1")[0] > 0
    assert both.one("SELECT count(*) FROM reached_nodes WHERE acted = 1")[0] > 0


# -- many writers at once ------------------------------------------------------------------
RECOUNT = {  # each counter table, as what it counts recounts it (every person's own rows)
    "funnel_counts": """SELECT k.day, CASE GROUPING(k.lang) WHEN 0 THEN k.lang ELSE '' END,
        p.metric, sum(p.n) FROM funnel_person p JOIN funnel_keys k ON k.user_id = p.user_id
        GROUP BY GROUPING SETS ((k.day, k.lang, p.metric), (k.day, p.metric)) HAVING sum(p.n) != 0""",
    "funnel_advocates": """SELECT k.day, k.advocate, p.metric, sum(p.n) FROM funnel_person p
        JOIN funnel_keys k ON k.user_id = p.user_id GROUP BY 1, 2, 3 HAVING sum(p.n) != 0""",
    "funnel_nodes": "SELECT day, node, count(*) FROM funnel_standing GROUP BY 1, 2",
    "funnel_spots": "SELECT day, last_day, node, count(*) FROM funnel_standing GROUP BY 1, 2, 3",
    "funnel_reach": """SELECT iso_day(u.created_at), r.node, count(*) FROM reached_nodes r
        JOIN users u ON u.user_id = r.user_id GROUP BY 1, 2""",
    "unknown_counts": """SELECT node, lang, text_key, min(text COLLATE "C"), count(*)
        FROM unknown_texts GROUP BY 1, 2, 3""",
    "advocates": """SELECT a.user_id, count(*) FILTER (WHERE r.advocate_id = a.user_id),
        count(*) FILTER (WHERE r.advocate_id = a.user_id AND u.finished * u.shares != 0),
        count(*) FILTER (WHERE r.path::jsonb @> to_jsonb(a.user_id)),
        count(*) FILTER (WHERE r.path::jsonb @> to_jsonb(a.user_id) AND u.finished * u.shares != 0)
        FROM advocates a, referrals r JOIN users u ON u.user_id = r.friend_id GROUP BY 1""",
}
KEPT = {
    "funnel_counts": "SELECT * FROM funnel_counts WHERE n != 0 AND metric != 'erased'",
    "advocates": "SELECT user_id, friends, finished, tree, tree_finished FROM advocates",
    "unknown_counts": "SELECT * FROM unknown_counts",
}


def _writer(url: str, users: range, advocates: list[int], seed: int) -> None:
    """Turns of `users` (each person's in order) on a connection of its own, the first of an
    advocate (no `advocates`) creating their invitation; then two friends are erased."""
    rng, states = random.Random(seed), dict[int, UserState]()
    with psycopg.connect(url, autocommit=True) as db:
        for turn in range(6):
            for uid in users:
                before, now = states.get(uid), at(turn // 2, minutes=turn * 7 + uid)
                adv = rng.choice(advocates or [0]) if before is None and rng.random() < 0.7 else 0
                chain = (adv, *advocates[: min(adv - 1, 1)])  # 2 and 3 are under 1
                effects: list[Effect] = [fx.CreditReferral(adv, f"p{adv}", chain)] if adv else []
                if before is not None:  # where they stood, and what they typed there
                    where = f"{before.flow}.{before.node}"
                    effects += [Record("press", {"node": where}),
                                KeepUnknown(where, "fr", rng.choice(["Euh", "euh", "zut"]))]  # fmt: skip
                if before is None and not advocates:
                    effects.append(fx.CreateInvite(Invitation(f"p{uid}", f"C{uid}", uid)))
                states[uid] = step(before, uid, now, node=rng.choice(NODES),
                                   complete=(("V",), ("I", "E"), ())[turn % 3] if turn > 1 else (),
                                   reach=("i_hidden",) if turn == 1 else (),
                                   nudges={"reminders": rng.random() < 0.7},
                                   advocacy={"shares": rng.random() < 0.8})  # fmt: skip
                db.execute(PG_TURN, in_column_order(turn_row(before, states[uid], effects,
                                                             MILESTONE_STAGE)))  # fmt: skip
        for uid in users[:2] if advocates else ():
            db.execute("DELETE FROM users WHERE user_id = %s", (uid,))


def test_concurrent_turns_keep_exact_counters(pg: psycopg.Connection, schema_db: str) -> None:
    """Four workers at once on the same cohort days (the same counter rows): every counter
    equals a recount of what it counts (a lost update would show). None deadlocks (it would
    fail): a turn takes its cohort day's lock first."""
    _writer(schema_db, range(1, 4), [], 0)  # the advocates, then their friends four at once
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda w: _writer(schema_db, range(10 + 20 * w, 25 + 20 * w), [1, 2, 3], w),
                      range(4)))  # fmt: skip
    for table, query in RECOUNT.items():
        kept = pg.execute(KEPT.get(table, f"SELECT * FROM {table} WHERE n != 0")).fetchall()
        assert set(map(tuple, kept)) == set(map(tuple, pg.execute(query))), table
    assert pg.execute("SELECT sum(friends) > 20 FROM advocates").fetchone() == (True,)
