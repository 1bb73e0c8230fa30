"""The bot's own commands and buttons (/help, /progress, /language, /forget…). Pure."""

from __future__ import annotations

from dataclasses import replace

from bot import callback
from bot.callback import SystemPress
from bot.dialogs.schema import STAGES
from bot.engine import Turn, expired, progress
from bot.events import ButtonView, Command, ExportUserData, ForgetUser, Send
from bot.state import new_state

LANGUAGE_NAMES = {
    "fr": "Français",
    "en": "English",
    "de": "Deutsch",
    "es": "Español",
    "it": "Italiano",
}
COMMANDS = ("start", "help", "progress", "language", "restart", "stop", "mydata", "forget")


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
    elif name == "progress":
        per_stage = progress(turn.dialogs, turn.state)
        stages = [{"code": s, "name": turn.message(f"stage_{s}"), **per_stage[s]} for s in STAGES]
        turn.say("progress", stages=stages)
    elif name == "language":
        wanted = command.args.strip().lower()[:2]
        if wanted in turn.dialogs.languages:
            _set_language(turn, wanted)
            return
        turn.state = replace(turn.state, pending="language")
        turn.say("language_prompt", language_buttons(turn))
    elif name == "restart":
        turn.say("restart_done")
        turn.enter(turn.dialogs.entry)
    elif name == "stop":
        turn.state = replace(turn.state, reminders=False)
        turn.say("stop_done")
    elif name == "mydata":
        turn.effects.append(ExportUserData())
    elif name == "forget":
        turn.state = replace(turn.state, pending="forget")
        yes = ButtonView(turn.message("forget_yes"), callback.encode_system("forget", "yes"))
        no = ButtonView(turn.message("forget_no"), callback.encode_system("forget", "no"))
        turn.say("forget_confirm", (yes, no))
    else:
        turn.say("unknown_command", command=name[:32])


def _set_language(turn: Turn, lang: str) -> None:
    turn.state = replace(turn.state, lang=lang, pending=None)
    turn.record("language", lang=lang)
    turn.say("language_set")
    if turn.state.started:
        turn.show()


def on_system_press(turn: Turn, press: SystemPress) -> None:
    """The bot's own buttons are honoured only while their question is pending."""
    pending = turn.state.pending
    if press.action == "lang" and pending == "language" and press.value in turn.dialogs.languages:
        _set_language(turn, press.value)
    elif press.action == "forget" and pending == "forget" and press.value in ("yes", "no"):
        if press.value == "yes":
            turn.effects.clear()  # nothing of this person survives, not even a log line
            turn.effects.append(ForgetUser())
            turn.effects.append(Send(turn.message("forget_done")))
            s = turn.state
            turn.state = new_state(s.user_id, s.lang, turn.now)
        else:
            turn.state = replace(turn.state, pending=None)
            turn.say("forget_cancelled")
            turn.show()
    else:
        turn.state = replace(turn.state, pending=None)
        expired(turn, "system_not_pending")
