"""/broadcast: an operator writes one message for everyone, sees it as it will arrive
and how many it will reach, and confirms; the runtime then sends it as a durable job.

Only the Telegram ids in `telegram.admins` may; for anyone else the command does not
exist (the ordinary "unknown command" answer) and its buttons have expired.

The conversation is the feature's open question (`turn.ask`): "broadcast:<lang>", the
text awaited in that language, the default language first, then each other one (where
"pareil", "same" or the button keeps the first text: people of that language get it;
messages name a language from its code, `language`).
Each text comes checked (the lookup asks the runtime's checker): a text with an error is
explained and asked for again, nothing written before is lost. After the last one, the
preview: each language's text rendered for the operator, and the reach, with Send and
Cancel. What is written so far is a draft in the store (`SaveDraft`, carried out by the
runtime); Send names the draft by its stamp, so a button under an older preview expires.

`/broadcast status|pause|resume|cancel` (also statut, reprendre, annuler) follow the job.
Pure: every write is an effect, what the store holds comes in the event's `known`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.events import Command, Send, Text
from bot.core.feature import CommandHandler, PressHandler, TextHook
from bot.core.model import Node
from bot.core.render import escape
from bot.core.textmatch import normalize
from bot.core.turn import Turn
from bot.features.operators.records import (
    BROADCAST,
    CONTROLS,
    BroadcastKnown,
    Checked,
    ControlBroadcast,
    Controlled,
    Draft,
    DropDraft,
    JobStatus,
    Reach,
    SaveDraft,
    StartBroadcast,
    Started,
)

NAME = "operators"
# What an operator may type instead of a text (compared once normalised).
CANCEL_WORDS = frozenset({"annuler", "abandonner", "cancel", "stop"})
SAME_WORDS = frozenset({"pareil", "idem", "meme", "le meme", "same", "the same", "="})
ACTIONS = {"status": "status", "statut": "status", "etat": "status", "pause": "pause",
           "resume": "resume", "reprendre": "resume", "cancel": "cancel",
           "annuler": "cancel"}  # fmt: skip
SHOWN_PROBLEMS = 8  # problems of one text told at once, each cut to PROBLEM_CHARS
PROBLEM_CHARS = 300
MESSAGES: dict[str, frozenset[str]] = {
    **{key: frozenset[str]() for key in (
        "broadcast_off", "broadcast_usage", "broadcast_start_first", "broadcast_cancel_button",
        "broadcast_nobody", "broadcast_dropped", "broadcast_none", "broadcast_nothing",
        "cmd_broadcast", "cmd_reload")},
    "broadcast_ask": frozenset({"language"}),
    "broadcast_ask_other": frozenset({"language", "first"}),
    "broadcast_same_button": frozenset({"language"}),
    "broadcast_refused": frozenset({"errors"}),
    "broadcast_remarks": frozenset({"remarks"}),
    "broadcast_preview_in": frozenset({"language", "first", "same", "count"}),
    "broadcast_preview": frozenset({"reach", "busy"}),
    "broadcast_send_button": frozenset({"reach"}),
    "broadcast_started": frozenset({"total", "minutes"}),
    "broadcast_busy": frozenset({"number", "state"}),
    "broadcast_status": frozenset({"number", "state", "total", "sent", "waiting", "blocked",
                                   "refused", "skipped", "started", "finished", "minutes"}),
    "broadcast_paused": frozenset({"sent", "waiting"}),
    "broadcast_resumed": frozenset({"waiting", "minutes"}),
    "broadcast_cancelled": frozenset({"sent", "waiting"}),
    "broadcast_already": frozenset({"state"}),
}  # fmt: skip
COUNT = 7  # a count of people, as shown: up to 9,999,999
LENGTHS: dict[tuple[str, ...], int] = {
    ("language",): 2, ("first",): 2, ("same",): 5, ("busy",): 5, ("state",): 9,
    ("errors",): SHOWN_PROBLEMS * (PROBLEM_CHARS + 3), ("remarks",): 3 * (PROBLEM_CHARS + 3),
    ("started",): 40, ("finished",): 40, ("minutes",): 6,
    **{(name,): COUNT for name in ("count", "reach", "total", "number", "sent", "waiting",
                                   "blocked", "refused", "skipped")},
}  # fmt: skip


def asked_language(turn: Turn) -> str | None:
    """The language whose text was awaited when this event came (None: none was)."""
    asked = turn.asked
    if asked is None or asked.feature != NAME:
        return None
    kind, _, lang = asked.question.partition(":")
    return lang if kind == BROADCAST and lang else None


def _known(value: object | None) -> BroadcastKnown | None:
    return value if isinstance(value, BroadcastKnown) else None


# -- the command ---------------------------------------------------------------------
def command(admins: frozenset[int]) -> CommandHandler:
    def handle(turn: Turn, event: Command) -> None:
        if turn.state.user_id not in admins:
            turn.say("unknown_command", command=event.name[:32])
            return
        known = _known(event.known)
        if known is None:
            turn.say("broadcast_off")
            return
        typed = normalize(event.args)
        action = ACTIONS.get(typed) if typed else "compose"
        if action is None:
            turn.say("broadcast_usage")
            return
        turn.record("broadcast_command", action=action)
        if action == "compose":
            compose(turn, known)
        elif action == "status":
            turn.effects.extend(status_replies(turn, known.status))
        else:
            turn.effects.append(ControlBroadcast(CONTROLS[action]))

    return handle


def compose(turn: Turn, known: BroadcastKnown) -> None:
    """Start writing afresh: the draft before goes, the first language's text is asked."""
    if not turn.state.started:  # a text would be their /start: the engine's rule
        turn.say("broadcast_start_first")
        return
    turn.effects.append(DropDraft())
    ask_text(turn, known.order, known.order[0])


def ask_text(turn: Turn, order: Sequence[str], lang: str) -> None:
    """Ask for the text in `lang` (with a button to keep the first one, for the others)."""
    turn.ask(NAME, f"{BROADCAST}:{lang}")
    cancel = turn.button("broadcast_cancel_button", BROADCAST, "cancel-0")
    if lang == order[0]:
        turn.say("broadcast_ask", (cancel,), language=lang)
        return
    same = turn.button("broadcast_same_button", BROADCAST, f"same-{lang}", language=order[0])
    turn.say("broadcast_ask_other", (same, cancel), language=lang, first=order[0])


# -- the texts -----------------------------------------------------------------------
def on_text(admins: frozenset[int]) -> TextHook:
    def hook(turn: Turn, node: Node | None, event: Text, other_meaning: bool) -> bool:
        lang = asked_language(turn)
        if lang is None or turn.state.user_id not in admins:
            return False
        known = _known(event.known)
        if known is None:
            turn.say("broadcast_off")
            return True
        words = normalize(event.text) or event.text.strip()
        if words in CANCEL_WORDS:
            drop(turn)
        elif lang != known.order[0] and words in SAME_WORDS:
            take(turn, known, lang, None)
        elif (checked := known.checked or Checked()).errors:
            turn.record("broadcast_text_refused", lang=lang, problems=len(checked.errors))
            turn.ask(NAME, f"{BROADCAST}:{lang}")  # the same question, nothing lost
            cancel = turn.button("broadcast_cancel_button", BROADCAST, "cancel-0")
            turn.say("broadcast_refused", (cancel,), errors=_listed(checked.errors))
        else:
            if checked.warnings:
                turn.say("broadcast_remarks", remarks=_listed(checked.warnings[:3]))
            take(turn, known, lang, event.text)
        return True

    return hook


def _listed(problems: Sequence[str]) -> str:
    lines = [p if len(p) <= PROBLEM_CHARS else p[: PROBLEM_CHARS - 1] + "…" for p in problems]
    return "\n".join(f"• {line}" for line in lines[:SHOWN_PROBLEMS])


def take(turn: Turn, known: BroadcastKnown, lang: str, text: str | None) -> None:
    """The text for `lang` (None: the first language's), then the next question or,
    after the last language, the preview."""
    order, first = known.order, known.order[0]
    texts = {} if lang == first else dict(known.draft.texts if known.draft else {})
    if first not in texts and lang != first:  # the draft went meanwhile: start again
        ask_text(turn, order, first)
        return
    if text is None:
        texts.pop(lang, None)
    else:
        texts[lang] = text
    turn.effects.append(SaveDraft(texts))
    turn.record("broadcast_text", lang=lang, same=text is None)
    following = order[order.index(lang) + 1 :] if lang in order else ()
    if following:
        ask_text(turn, order, following[0])
    else:
        preview(turn, known, Draft(texts))


def preview(turn: Turn, known: BroadcastKnown, draft: Draft) -> None:
    """Each language's text as it will arrive (rendered for the operator), the reach,
    and Send / Cancel."""
    reach, first = known.reach or Reach(), known.order[0]
    for lang in known.order:
        written_in = lang if lang in draft.texts else first
        source = draft.texts[written_in]
        me = {"first_name": turn.state.first_name, "lang": written_in}
        shown = turn.render(source, "broadcast", user=me) or escape(source)
        count = reach.by_language.get(lang, 0)
        turn.say("broadcast_preview_in", language=lang, first=first,
                 same=written_in != lang, count=count)  # fmt: skip
        turn.effects.append(Send(shown))
    cancel = turn.button("broadcast_cancel_button", BROADCAST, f"cancel-{draft.stamp}")
    turn.record("broadcast_previewed", reach=reach.total)
    if reach.total == 0:
        turn.say("broadcast_nobody", (cancel,))
        return
    send = turn.button("broadcast_send_button", BROADCAST, f"send-{draft.stamp}",
                       reach=reach.total)  # fmt: skip
    busy = known.status is not None and known.status.active
    turn.say("broadcast_preview", (send, cancel), reach=reach.total, busy=busy)


def drop(turn: Turn) -> None:
    turn.effects.append(DropDraft())
    turn.record("broadcast_dropped")
    turn.say("broadcast_dropped")


# -- the buttons -----------------------------------------------------------------------
def press(admins: frozenset[int]) -> PressHandler:
    """`!broadcast:same-<lang>`, `send-<stamp>`, `cancel-<stamp>` (cancel-0: while
    writing). False (an expired button) for anyone else, or a button of another draft."""

    def handle(turn: Turn, value: str, found: object | None) -> bool:
        if turn.state.user_id not in admins:
            return False
        known = _known(found)
        if known is None:
            turn.say("broadcast_off")
            return True
        what, _, arg = value.partition("-")
        draft = known.draft
        if what == "same":
            if asked_language(turn) != arg or arg == known.order[0]:
                return False
            take(turn, known, arg, None)
            return True
        if what == "cancel":
            writing = arg == "0" and (asked_language(turn) is not None or draft is not None)
            if not writing and (draft is None or draft.stamp != arg):
                return False
            drop(turn)
            return True
        if what == "send" and draft is not None and draft.stamp == arg:
            if known.order[0] not in draft.texts:
                return False
            turn.record("broadcast_confirmed")
            turn.effects.append(StartBroadcast(dict(draft.texts), known.order[0]))
            return True
        return False

    return handle


# -- what the runtime found ---------------------------------------------------------------
def _counts(job: JobStatus) -> dict[str, int]:
    return {"number": job.id, "total": job.total, "sent": job.sent, "waiting": job.waiting,
            "blocked": job.blocked, "refused": job.refused, "skipped": job.skipped}  # fmt: skip


def status_replies(turn: Turn, job: JobStatus | None) -> list[Send]:
    """/broadcast status: the active job, else the last one."""
    if job is None:
        return [Send(turn.message("broadcast_none"))]
    finished = turn.when(job.finished) if job.finished else ""
    text = turn.message(
        "broadcast_status", state=job.state, started=turn.when(job.created),
        finished=finished, minutes=job.minutes_left(), **_counts(job),
    )  # fmt: skip
    return [Send(text)]


def started_replies(turn: Turn, outcome: Started) -> list[Send]:
    job = outcome.job
    if outcome.result == "busy":
        return [Send(turn.message("broadcast_busy", number=job.id, state=job.state))]
    return [Send(turn.message("broadcast_started", total=job.total, minutes=job.minutes_left()))]


def controlled_replies(turn: Turn, outcome: Controlled) -> list[Send]:
    job = outcome.job
    if outcome.result == "none" or job is None:
        return [Send(turn.message("broadcast_nothing"))]
    if outcome.result == "already":
        return [Send(turn.message("broadcast_already", state=job.state))]
    if outcome.action == "pause":
        return [Send(turn.message("broadcast_paused", sent=job.sent, waiting=job.waiting))]
    if outcome.action == "resume":
        text = turn.message("broadcast_resumed", waiting=job.waiting, minutes=job.minutes_left())
        return [Send(text)]
    return [Send(turn.message("broadcast_cancelled", sent=job.sent, waiting=job.waiting))]
