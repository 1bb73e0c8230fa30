"""How a person's state and a turn map to SQL rows, by column name: the one `turns` row a
turn writes, and the row `LOAD` reads back. Times of the outbox are integer milliseconds.

The core state maps to the `users` and `conversations` columns; each feature's record to
its own columns (`NUDGE_COLUMNS`, `ADVOCACY_COLUMNS`); the effects a feature defines to
the JSON columns its part of the trigger reads. A test compares `TURN_COLUMNS` with the
columns of the `turns` view, so that a column can be neither forgotten nor swapped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from bot.core.events import CancelNudge, Effect, KeepUnknown, Record, ScheduleNudge
from bot.core.model import JOURNEY_STAGE
from bot.core.state import Part, Pending, UserState
from bot.core.textmatch import normalize
from bot.features.advocates.effects import (
    AckAlerts,
    CreateInvite,
    CreditReferral,
    Notify,
    RevokeInvite,
)
from bot.features.advocates.state import ADVOCACY, AdvocacyState
from bot.features.nudges.state import NUDGES, NudgeState
from bot.store.queues import NO_DELIVERY, Delivery, Statement, from_ms, to_ms

TURN_COLUMNS = (
    "user_id", "first_name", "lang", "reminders", "blocked", "created_at", "updated_at",
    "flow", "node", "node_version", "vars", "pending", "dialog_version",
    "milestones", "stages", "events", "update_id",
    "timezone", "nudges_sent", "ignored_in_a_row", "nudge_step", "next_nudge_ms", "nudge_ops",
    "active_at", "shares", "public", "alerts", "invite_tries", "watch_ms", "alerts_sent",
    "digest_ms", "finished", "unknown", "now_ms", "referral", "notify", "invite_ops", "alerts_ack",
    "replies", "nudge_done",
)  # fmt: skip
# The columns are named in the statement; the values are bound in the same order, taken
# from the row by name (`in_column_order`): positional binding is measurably faster than
# sqlite3's named binding, and nothing depends on the order but this one tuple.
INSERT_TURN = (
    f"INSERT INTO turns ({', '.join(TURN_COLUMNS)}) VALUES ({', '.join('?' * len(TURN_COLUMNS))})"
)
in_column_order = itemgetter(*TURN_COLUMNS)
_LOAD = """
    SELECT u.lang, u.created_at, u.first_name, c.flow, c.node, c.node_version, c.vars,
           u.reminders, u.blocked, c.pending, c.dialog_version, u.updated_at,
           (SELECT {concat}(milestone, ' ') FROM milestones m
            WHERE m.user_id = u.user_id) AS milestones,
           (SELECT {concat}(stage, ' ') FROM stages_completed s
            WHERE s.user_id = u.user_id) AS stages,
           u.timezone, u.nudges_sent, u.ignored_in_a_row, c.nudge_step, c.next_nudge_ms,
           u.active_at, r.advocate_id AS referrer, u.shares, u.public, u.alerts,
           u.invite_tries, u.watch_ms, u.alerts_sent, u.digest_ms
    FROM users u LEFT JOIN conversations c ON c.user_id = u.user_id
    LEFT JOIN referrals r ON r.friend_id = u.user_id
    WHERE u.user_id = ?"""
# the one word the two databases spell differently here
LOAD = _LOAD.format(concat="group_concat")
LOAD_PG = _LOAD.format(concat="string_agg")


def forget_statements(user_id: int, delivery: Delivery, ms: int) -> list[Statement]:
    """What erasing a person writes, on either database: every table of the conversation
    refers to users ON DELETE CASCADE; the delivery queues name the chat without a
    foreign key (a reply outlives nothing else); then the erasing turn's own delivery."""
    statements: list[Statement] = [
        ("DELETE FROM users WHERE user_id = ?", [(user_id,)]),
        ("DELETE FROM inbox WHERE owner = ?", [(user_id,)]),
        ("DELETE FROM outbox WHERE chat_id = ?", [(user_id,)]),
    ]
    if delivery.update_id is not None:
        statements.append((
            "INSERT INTO inbox (update_id, owner, body, received_ms, done_ms) "
            "VALUES (?, NULL, NULL, ?, ?) ON CONFLICT (update_id) DO UPDATE SET "
            "owner = NULL, body = NULL, received_ms = excluded.received_ms, "
            "done_ms = excluded.done_ms", [(delivery.update_id, ms, ms)],
        ))  # fmt: skip
    if delivery.outgoing:
        statements.append((
            "INSERT INTO outbox (chat_id, kind, body, created_ms) VALUES (?, ?, ?, ?)",
            [(o.chat_id, o.kind, json.dumps(o.body, ensure_ascii=False), ms)
             for o in delivery.outgoing],
        ))  # fmt: skip
    return statements


# json.dumps with options builds a new encoder on every call: one, built once, is reused
# (a turn encodes about ten values).
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":"))


def _json(value: Any) -> str:
    if not value and isinstance(value, list | tuple | dict):  # most lists of a turn are empty
        return "{}" if isinstance(value, dict) else "[]"
    return _ENCODER.encode(value)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else to_ms(moment)


def _at(ms: int | None) -> datetime | None:
    return None if ms is None else from_ms(ms)


def _times(raw: str) -> tuple[datetime, ...]:
    return tuple(from_ms(ms) for ms in json.loads(raw))


# -- each feature's record and its columns ---------------------------------------------------
def nudge_columns(part: NudgeState) -> dict[str, Any]:
    return {
        "reminders": int(part.reminders),
        "nudges_sent": _json([to_ms(t) for t in part.sent]),
        "ignored_in_a_row": part.ignored_in_a_row,
        "nudge_step": part.step,
        "next_nudge_ms": _ms(part.next_at),
    }


def nudge_part(row: Mapping[str, Any]) -> NudgeState:
    return NudgeState(
        reminders=bool(row["reminders"]),
        sent=_times(row["nudges_sent"]),
        ignored_in_a_row=row["ignored_in_a_row"],
        step=row["nudge_step"] or 0,
        next_at=_at(row["next_nudge_ms"]),
    )


def advocacy_columns(part: AdvocacyState) -> dict[str, Any]:
    return {
        "shares": int(part.shares),
        "public": int(part.public),
        "alerts": int(part.alerts),
        "invite_tries": part.invite_tries,
        "watch_ms": _ms(part.watch_at),
        "alerts_sent": _json([to_ms(t) for t in part.alerts_sent]),
        "digest_ms": _ms(part.digest_at),
    }


def advocacy_part(row: Mapping[str, Any]) -> AdvocacyState:
    return AdvocacyState(
        referrer=row["referrer"],
        shares=bool(row["shares"]),
        public=bool(row["public"]),
        alerts=bool(row["alerts"]),
        invite_tries=row["invite_tries"],
        watch_at=_at(row["watch_ms"]),
        alerts_sent=_times(row["alerts_sent"]),
        digest_at=_at(row["digest_ms"]),
    )


# -- the whole state ----------------------------------------------------------------------
def state_from(user_id: int, row: Mapping[str, Any]) -> UserState:
    """The state from a `LOAD` row (a mapping of column name to value)."""
    return UserState(
        user_id=user_id,
        lang=row["lang"],
        created_at=datetime.fromisoformat(row["created_at"]),
        first_name=row["first_name"],
        flow=row["flow"],
        node=row["node"],
        node_version=row["node_version"] or "",
        vars=json.loads(row["vars"] or "{}"),
        milestones=frozenset((row["milestones"] or "").split()),
        completed=frozenset((row["stages"] or "").split()),
        blocked=bool(row["blocked"]),
        pending=Pending.parse(row["pending"]),
        dialog_version=row["dialog_version"] or "",
        updated_at=datetime.fromisoformat(row["updated_at"]),
        timezone=row["timezone"],
        active_at=None if row["active_at"] is None else datetime.fromisoformat(row["active_at"]),
        parts=_parts((NUDGES, nudge_part(row)), (ADVOCACY, advocacy_part(row))),
    )


def _parts(*found: tuple[Part[Any], object]) -> dict[str, object]:
    """Only the records that differ from their defaults (see `Part.put`)."""
    return {part.name: value for part, value in found if value != part.default}


def _effect_columns(effects: Sequence[Effect]) -> dict[str, Any]:
    """What the turn's effects store: the event log, nudge schedule, referral, alerts."""
    records: list[Any] = []
    nudge_ops: dict[str, int | None] = {}  # key -> due ms (None: cancel); the last one wins
    notify: list[Any] = []
    invite_ops: list[Any] = []
    acks: list[int] = []
    unknown: list[Any] = []
    referral = None
    for e in effects:
        if isinstance(e, Record):
            records.append([e.name, dict(e.data)])
        elif isinstance(e, ScheduleNudge):
            nudge_ops.pop(e.key, None)
            nudge_ops[e.key] = to_ms(e.due)
        elif isinstance(e, CancelNudge):
            nudge_ops.pop(e.key, None)
            nudge_ops[e.key] = None
        elif isinstance(e, CreditReferral):
            referral = _json({"advocate": e.advocate_id, "payload": e.payload, "path": e.path})
        elif isinstance(e, Notify):
            notify.append([e.advocate_id, e.kind, e.stage, to_ms(e.due)])
        elif isinstance(e, CreateInvite):
            i = e.invitation
            invite_ops.append(["create", i.payload, i.code, i.name, normalize(i.name)])
        elif isinstance(e, RevokeInvite):
            invite_ops.append(["revoke", e.payload])
        elif isinstance(e, AckAlerts):
            acks.extend(e.ids)
        elif isinstance(e, KeepUnknown):
            unknown.append([e.node, e.lang, e.text, normalize(e.text)])
    return {
        "events": _json(records),
        "nudge_ops": _json([[key, due] for key, due in nudge_ops.items()]),
        "referral": referral,
        "notify": _json(notify),
        "invite_ops": _json(invite_ops),
        "alerts_ack": _json(acks),
        "unknown": _json(unknown),
    }


def turn_row(
    before: UserState | None,
    after: UserState,
    effects: Sequence[Effect],
    milestone_stage: Mapping[str, str],
    delivery: Delivery = NO_DELIVERY,
) -> dict[str, Any]:
    """The values of one `INSERT INTO turns`, by column: the state, what the turn's
    effects store, and how it came and goes (update answered, replies, nudge handled)."""
    now = after.updated_at or after.created_at
    old_milestones = before.milestones if before else frozenset()
    old_stages = before.completed if before else frozenset()
    new_milestones = [
        [m, milestone_stage.get(m)] for m in sorted(after.milestones - old_milestones)
    ]
    return {
        "user_id": after.user_id,
        "first_name": after.first_name,
        "lang": after.lang,
        "blocked": int(after.blocked),
        "created_at": _iso(after.created_at),
        "updated_at": now.isoformat(),
        "flow": after.flow,
        "node": after.node,
        "node_version": after.node_version,
        "vars": _json(dict(after.vars)),
        "pending": None if after.pending is None else str(after.pending),
        "dialog_version": after.dialog_version,
        "milestones": _json(new_milestones),
        "stages": _json(sorted(after.completed - old_stages)),
        "update_id": delivery.update_id,
        "replies": _json([[o.chat_id, o.kind, o.body] for o in delivery.outgoing]),
        "nudge_done": None
        if delivery.nudge_done is None
        else _json([delivery.nudge_done[0], to_ms(delivery.nudge_done[1])]),
        "timezone": after.timezone,
        "active_at": _iso(after.active_at),
        "finished": int(JOURNEY_STAGE in after.completed),
        "now_ms": to_ms(now),
        **nudge_columns(NUDGES.of(after)),
        **advocacy_columns(ADVOCACY.of(after)),
        **_effect_columns(effects),
    }


def prune_statements(now: datetime, keep: timedelta, keep_unknown: timedelta) -> list[Statement]:
    """What pruning deletes, on either database: the ids of updates processed longer than
    `keep` ago (Telegram redelivers for a day), and texts not understood and updates set
    aside older than `keep_unknown`, and console links expired longer than `keep` ago."""
    old = to_ms(now - keep_unknown)
    return [
        ("DELETE FROM console_links WHERE expires_ms < ?", [(to_ms(now - keep),)]),
        ("DELETE FROM inbox WHERE done_ms < ?", [(to_ms(now - keep),)]),
        ("DELETE FROM unknown_texts WHERE at_ms < ?", [(old,)]),
        ("DELETE FROM poison_updates WHERE at_ms < ?", [(old,)]),
    ]
