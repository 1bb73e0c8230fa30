"""The bot's own commands and buttons (/help, /progress, /language, /forget…). Pure."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core import callback
from bot.core.callback import SystemPress
from bot.core.engine import Turn, expired, progress
from bot.core.events import ButtonView, Command, ExportUserData, ForgetUser, Known, Send
from bot.core.state import evolve, new_state
from bot.dialogs.schema import STAGES
from bot.features.advocates import dashboard
from bot.features.nudges import followups

LANGUAGE_NAMES = {
    "fr": "Français",
    "en": "English",
    "de": "Deutsch",
    "es": "Español",
    "it": "Italiano",
}
COMMANDS = (
    "start", "help", "progress", "language", "restart", "stop", "reminders", "timezone",
    "mydata", "forget", *dashboard.COMMANDS,
)  # fmt: skip


def language_buttons(turn: Turn) -> tuple[ButtonView, ...]:
    return tuple(
        ButtonView(LANGUAGE_NAMES.get(lang, lang), callback.encode_system("lang", lang))
        for lang in turn.dialogs.languages
    )


def on_command(turn: Turn, command: Command) -> None:
    """Route one slash command."""
    name = command.name
    turn.record("command", name=name if name in COMMANDS else "unknown")
    if name == "help":
        turn.say("help")
        turn.say("help_advocate")
    elif name == "progress":
        per_stage = progress(turn.dialogs, turn.state)
        stages = [{"code": s, "name": turn.message(f"stage_{s}"), **per_stage[s]} for s in STAGES]
        turn.say("progress", stages=stages)
        s = turn.state
        if s.next_nudge_at is not None and s.reminders:
            turn.say("next_reminder", when=followups.when(turn, s.next_nudge_at))
        else:
            turn.say("no_reminder")
    elif name == "language":
        wanted = command.args.strip().lower()[:2]
        if wanted in turn.dialogs.languages:
            _set_language(turn, wanted)
            return
        turn.state = evolve(turn.state, pending="language")
        turn.say("language_prompt", language_buttons(turn))
    elif name == "restart":
        turn.say("restart_done")
        turn.enter(turn.dialogs.entry)
    elif name == "stop":
        followups.stop(turn)
        turn.say("stop_done")
    elif name == "reminders":
        followups.resume(turn)
        turn.say("reminders_on")
    elif name == "timezone":
        _timezone(turn, command.args.strip())
    elif name == "mydata":
        turn.effects.append(ExportUserData())
    elif name == "forget":
        turn.state = evolve(turn.state, pending="forget")
        yes = ButtonView(turn.label("forget_yes"), callback.encode_system("forget", "yes"))
        no = ButtonView(turn.label("forget_no"), callback.encode_system("forget", "no"))
        turn.say("forget_confirm", (yes, no))
    elif not dashboard.on_command(turn, command):
        turn.say("unknown_command", command=name[:32])


def _timezone(turn: Turn, wanted: str) -> None:
    if wanted and "/" in wanted and len(wanted) <= 64:
        try:
            ZoneInfo(wanted)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        else:
            turn.state = evolve(turn.state, timezone=wanted)
            turn.record("timezone", tz=wanted)
            turn.say("timezone_set", tz=wanted)
            return
    turn.say("timezone_help", tz=followups.timezone_of(turn.state).key)


def _set_language(turn: Turn, lang: str) -> None:
    turn.state = evolve(turn.state, lang=lang, pending=None)
    turn.record("language", lang=lang)
    turn.say("language_set")
    if turn.state.started:
        turn.show()


def on_system_press(turn: Turn, press: SystemPress, known: Known | None = None) -> None:
    """The bot's own buttons; a yes/no question's only while that question is pending."""
    pending = turn.state.pending
    if press.action in dashboard.PRESSES:
        turn.state = evolve(turn.state, pending=None)
        if not dashboard.on_press(turn, press.action, press.value, known):
            expired(turn, "system_unknown")
    elif press.action == "nudge":
        turn.state = evolve(turn.state, pending=None)
        if not followups.on_press(turn, press.value):
            expired(turn, "nudge_not_pending")
    elif press.action == "lang" and pending == "language" and press.value in turn.dialogs.languages:
        _set_language(turn, press.value)
    elif press.action == "forget" and pending == "forget" and press.value in ("yes", "no"):
        if press.value == "yes":
            turn.effects.clear()  # nothing of this person survives, not even a log line
            turn.effects.append(ForgetUser())
            turn.effects.append(Send(turn.message("forget_done")))
            s = turn.state
            turn.state = new_state(s.user_id, s.lang, turn.now)
        else:
            turn.state = evolve(turn.state, pending=None)
            turn.say("forget_cancelled")
            turn.show()
    else:
        turn.state = evolve(turn.state, pending=None)
        expired(turn, "system_not_pending")
