"""How a person's state and a turn map to SQL rows: the one `turns` row a turn writes,
and the row `LOAD` reads back. Times of the outbox are integer milliseconds."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bot.core.events import (
    AckAlerts,
    CancelNudge,
    CreateInvite,
    CreditReferral,
    Effect,
    Notify,
    Record,
    RevokeInvite,
    ScheduleNudge,
)
from bot.core.state import UserState
from bot.core.textmatch import normalize

TURN_COLUMNS = 36
INSERT_TURN = f"INSERT INTO turns VALUES ({', '.join('?' * TURN_COLUMNS)})"
LOAD = """
    SELECT u.lang, u.created_at, u.first_name, c.flow, c.node, c.node_version, c.vars,
           u.reminders, u.blocked, c.pending, c.dialog_version, u.updated_at,
           (SELECT group_concat(milestone, ' ') FROM milestones m WHERE m.user_id = u.user_id),
           (SELECT group_concat(stage, ' ') FROM stages_completed s WHERE s.user_id = u.user_id),
           u.timezone, u.nudges_sent, u.ignored_in_a_row, c.nudge_step, c.next_nudge_ms,
           u.active_at, r.advocate_id, u.shares, u.public, u.alerts, u.invite_tries,
           u.watch_ms, u.alerts_sent, u.digest_ms
    FROM users u LEFT JOIN conversations c ON c.user_id = u.user_id
    LEFT JOIN referrals r ON r.friend_id = u.user_id
    WHERE u.user_id = ?"""


# json.dumps with options builds a new encoder on every call: one, built once, is reused
# (a turn encodes about ten values).
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":"))


def _json(value: Any) -> str:
    if not value and isinstance(value, list | tuple | dict):  # most lists of a turn are empty
        return "{}" if isinstance(value, dict) else "[]"
    return _ENCODER.encode(value)


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch: how the outbox stores time."""
    return round(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else to_ms(moment)


def _at(ms: int | None) -> datetime | None:
    return None if ms is None else from_ms(ms)


def state_from(user_id: int, row: Sequence[Any]) -> UserState:
    return UserState(
        user_id=user_id,
        lang=row[0],
        created_at=datetime.fromisoformat(row[1]),
        first_name=row[2],
        flow=row[3],
        node=row[4],
        node_version=row[5] or "",
        vars=json.loads(row[6] or "{}"),
        reminders=bool(row[7]),
        blocked=bool(row[8]),
        pending=row[9],
        dialog_version=row[10] or "",
        updated_at=datetime.fromisoformat(row[11]),
        milestones=frozenset((row[12] or "").split()),
        completed=frozenset((row[13] or "").split()),
        timezone=row[14],
        nudges_sent=tuple(from_ms(ms) for ms in json.loads(row[15])),
        ignored_in_a_row=row[16],
        nudge_step=row[17] or 0,
        next_nudge_at=_at(row[18]),
        active_at=None if row[19] is None else datetime.fromisoformat(row[19]),
        referrer=row[20],
        shares=bool(row[21]),
        public=bool(row[22]),
        alerts=bool(row[23]),
        invite_tries=row[24],
        watch_at=_at(row[25]),
        alerts_sent=tuple(from_ms(ms) for ms in json.loads(row[26])),
        digest_at=_at(row[27]),
    )


def turn_row(
    before: UserState | None,
    after: UserState,
    effects: Sequence[Effect],
    milestone_stage: Mapping[str, str],
    update_key: str | None,
) -> tuple[Any, ...]:
    """The values of one `INSERT INTO turns`: the state and what the turn's effects store."""
    now = after.updated_at or after.created_at
    old_milestones = before.milestones if before else frozenset()
    old_stages = before.completed if before else frozenset()
    new_milestones = [
        [m, milestone_stage.get(m)] for m in sorted(after.milestones - old_milestones)
    ]
    records: list[Any] = []
    nudge_ops: list[Any] = []
    notify: list[Any] = []
    invite_ops: list[Any] = []
    acks: list[int] = []
    referral = None
    for e in effects:
        if isinstance(e, Record):
            records.append([e.name, dict(e.data)])
        elif isinstance(e, ScheduleNudge):
            nudge_ops = [op for op in nudge_ops if op[0] != e.key] + [[e.key, to_ms(e.due)]]
        elif isinstance(e, CancelNudge):
            nudge_ops = [op for op in nudge_ops if op[0] != e.key] + [[e.key, None]]
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
    return (
        after.user_id, after.first_name, after.lang, int(after.reminders), int(after.blocked),
        _iso(after.created_at), now.isoformat(), after.flow, after.node, after.node_version,
        _json(dict(after.vars)), after.pending, after.dialog_version,
        _json(new_milestones), _json(sorted(after.completed - old_stages)), _json(records),
        update_key, after.timezone, _json([to_ms(t) for t in after.nudges_sent]),
        after.ignored_in_a_row, after.nudge_step, _ms(after.next_nudge_at),
        _json(nudge_ops), _iso(after.active_at), int(after.shares), int(after.public),
        int(after.alerts), after.invite_tries, _ms(after.watch_at),
        _json([to_ms(t) for t in after.alerts_sent]), _ms(after.digest_at), to_ms(now),
        referral, _json(notify), _json(invite_ops), _json(acks),
    )  # fmt: skip
