"""The bot's everyday commands: /help, /progress, /language, /restart, /timezone. Pure."""

from __future__ import annotations

from bot.core.callback import encode_system
from bot.core.events import ButtonView, Command
from bot.core.feature import Feature
from bot.core.localtime import timezone_of, valid_timezone
from bot.core.model import STAGES
from bot.core.render import to_plain
from bot.core.state import evolve
from bot.core.turn import Turn, progress
from bot.features.nudges.state import NUDGES

NAME = "basics"
MESSAGES: dict[str, frozenset[str]] = {
    "help": frozenset(),
    "progress": frozenset({"stages"}),
    "next_reminder": frozenset({"when"}),
    "no_reminder": frozenset(),
    "language_prompt": frozenset(),
    "language_set": frozenset(),
    "language_name": frozenset(),
    "restart_done": frozenset(),
    "timezone_set": frozenset({"tz"}),
    "timezone_help": frozenset({"tz"}),
    **{f"cmd_{c}": frozenset() for c in ("start", "help", "progress", "language", "restart",
                                         "timezone")},
}  # fmt: skip


def language_buttons(turn: Turn) -> tuple[ButtonView, ...]:
    """One button per language, each named in its own language (message `language_name`)."""
    buttons = []
    for lang in turn.dialogs.languages:
        source = turn.dialogs.messages["language_name"].get(lang, lang)
        label = to_plain(turn.render(source, "message:language_name") or lang)[:64]
        buttons.append(ButtonView(label, encode_system("lang", lang)))
    return tuple(buttons)


def help_(turn: Turn, command: Command) -> None:
    """/help: the bot's help, then each feature's own (message `help_<feature>`)."""
    turn.say("help")
    for name in turn.hooks.features:
        if f"help_{name}" in turn.dialogs.messages:
            turn.say(f"help_{name}")


def progress_(turn: Turn, command: Command) -> None:
    per_stage = progress(turn.dialogs, turn.state)
    stages = [{"code": s, "name": turn.message(f"stage_{s}"), **per_stage[s]} for s in STAGES]
    turn.say("progress", stages=stages)
    nudges = NUDGES.of(turn.state)
    if nudges.next_at is not None and nudges.reminders:
        turn.say("next_reminder", when=turn.when(nudges.next_at))
    else:
        turn.say("no_reminder")


def language(turn: Turn, command: Command) -> None:
    wanted = command.args.strip().lower()[:2]
    if wanted in turn.dialogs.languages:
        _set_language(turn, wanted)
        return
    turn.ask(NAME, "language")
    turn.say("language_prompt", language_buttons(turn))


def language_press(turn: Turn, value: str, known: object | None) -> bool:
    if not turn.was_asked(NAME, "language") or value not in turn.dialogs.languages:
        return False
    _set_language(turn, value)
    return True


def _set_language(turn: Turn, lang: str) -> None:
    turn.state = evolve(turn.state, lang=lang)
    turn.record("language", lang=lang)
    turn.say("language_set")
    if turn.state.started:
        turn.show()


def restart(turn: Turn, command: Command) -> None:
    turn.say("restart_done")
    turn.enter(turn.dialogs.entry)


def timezone(turn: Turn, command: Command) -> None:
    wanted = command.args.strip()
    if valid_timezone(wanted):
        turn.state = evolve(turn.state, timezone=wanted)
        turn.record("timezone", tz=wanted)
        turn.say("timezone_set", tz=wanted)
        return
    turn.say("timezone_help", tz=timezone_of(turn.state).key)


def feature() -> Feature:
    return Feature(
        name=NAME,
        commands={
            "help": help_,
            "progress": progress_,
            "language": language,
            "restart": restart,
            "timezone": timezone,
        },
        presses={"lang": language_press},
        messages=MESSAGES,
        lengths={("tz",): 64, ("when",): 24},
        menu=("start", "progress", "help", "language", "restart", "timezone"),
    )
