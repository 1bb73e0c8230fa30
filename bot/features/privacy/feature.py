"""/mydata and /forget: everything stored about a person, shown or erased. Pure: the
effects say what to do, the runtime does it (it reads the store for /mydata, then
`export_replies` says what to send)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.core.events import Command, Document, ExportUserData, ForgetUser, Send
from bot.core.feature import Feature
from bot.core.localtime import timezone_of
from bot.core.model import STAGES
from bot.core.render import to_plain
from bot.core.state import new_state
from bot.core.turn import Turn, progress
from bot.features.advocates.state import ADVOCACY
from bot.features.nudges.state import NUDGES

NAME = "privacy"
EXPORT_FILE = "vie-coach-my-data.json"
MESSAGES: dict[str, frozenset[str]] = {
    "mydata_summary": frozenset(
        {"stages", "language", "tz", "tz_chosen", "reminders", "invited", "advocate"}
        | {"shares", "my_links", "events", "unknown", "file"}
    ),
    "forget_confirm": frozenset(),
    "forget_yes": frozenset(),
    "forget_no": frozenset(),
    "forget_done": frozenset(),
    "forget_cancelled": frozenset(),
    "cmd_mydata": frozenset(),
    "cmd_forget": frozenset(),
}
LENGTHS: dict[tuple[str, ...], int] = {
    ("language",): 64, ("tz",): 64, ("advocate",): 64, ("file",): len(EXPORT_FILE),
    ("my_links",): 4, ("events",): 7, ("unknown",): 7,
    **{(flag,): 5 for flag in ("tz_chosen", "reminders", "invited", "shares")},
}  # fmt: skip


def mydata(turn: Turn, command: Command) -> None:
    turn.effects.append(ExportUserData())


def export_replies(turn: Turn, data: Mapping[str, Any]) -> list[Send]:
    """What /mydata sends, from what the store holds about the person (`Store.export`):
    a summary in their own words, then everything, as a JSON file they can keep."""
    return [Send(summary(turn, data)), Send("", document=export_document(turn, data))]


def summary(turn: Turn, data: Mapping[str, Any]) -> str:
    """Message `mydata_summary`: where they are, their settings, who invited them (by
    first name, if known), how much the log holds, and what /forget does."""
    state = turn.state
    per_stage = progress(turn.dialogs, state)
    stages = [{"code": s, "name": turn.message(f"stage_{s}"), **per_stage[s]} for s in STAGES]
    language = state.lang
    if "language_name" in turn.dialogs.messages:
        language = to_plain(turn.message("language_name"))
    referral = next(iter(data.get("referrals") or ()), None)
    invited_by = referral.get("invited_by") if isinstance(referral, Mapping) else None
    advocate = invited_by.get("first_name") if isinstance(invited_by, Mapping) else None
    links = [i for i in data.get("invites") or () if i.get("revoked_ms") is None]
    return turn.message(
        "mydata_summary",
        stages=stages,
        language=language,
        tz=timezone_of(state).key,
        tz_chosen=bool(state.timezone),
        reminders=NUDGES.of(state).reminders,
        invited=referral is not None or ADVOCACY.of(state).referrer is not None,
        advocate=str(advocate or "")[:64],
        shares=ADVOCACY.of(state).shares,
        my_links=len(links),
        events=len(data.get("events") or ()),
        unknown=len(data.get("unknown_texts") or ()),
        file=EXPORT_FILE,
    )


def export_document(turn: Turn, data: Mapping[str, Any]) -> Document:
    """Everything stored, as indented UTF-8 JSON (accents as they are, not \\u escapes)."""
    shaped = {"exported_at": turn.now.isoformat(), "data": data}
    content = json.dumps(shaped, ensure_ascii=False, indent=2, default=str)
    return Document(EXPORT_FILE, content.encode("utf-8"), "application/json")


def forget(turn: Turn, command: Command) -> None:
    turn.ask(NAME, "forget")
    yes = turn.button("forget_yes", "forget", "yes")
    no = turn.button("forget_no", "forget", "no")
    turn.say("forget_confirm", (yes, no))


def forget_press(turn: Turn, value: str, known: object | None) -> bool:
    """The answer to "erase everything?", only while that question is open."""
    if not turn.was_asked(NAME, "forget") or value not in ("yes", "no"):
        return False
    if value == "yes":
        turn.effects.clear()  # nothing of this person survives, not even a log line
        turn.effects.append(ForgetUser())
        turn.effects.append(Send(turn.message("forget_done")))
        s = turn.state
        turn.state = new_state(s.user_id, s.lang, turn.now)
    else:
        turn.say("forget_cancelled")
        turn.show()
    return True


def feature() -> Feature:
    return Feature(
        name=NAME,
        commands={"mydata": mydata, "forget": forget},
        presses={"forget": forget_press},
        messages=MESSAGES,
        lengths=LENGTHS,
        menu=("mydata", "forget"),
    )
