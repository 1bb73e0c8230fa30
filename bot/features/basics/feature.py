"""The bot's everyday commands: /help, /progress, /language, /restart, /timezone. Pure."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.core.callback import encode_system
from bot.core.events import ButtonView, Command, Text
from bot.core.feature import Feature
from bot.core.localtime import ZoneGuess, find_timezone, known_timezone, place_name, timezone_of
from bot.core.model import STAGES, Node
from bot.core.render import to_plain
from bot.core.state import evolve
from bot.core.turn import Turn, progress
from bot.features.nudges.state import NUDGES

NAME = "basics"
TIMEZONE_QUESTION = "timezone"  # "where do you live?", open after /timezone asked it
MAX_PLACE_WORDS = 4  # longer unknown text is a sentence, not a place
TYPED_SHOWN = 40  # of the typed place, quoted back
MESSAGES: dict[str, frozenset[str]] = {
    "help": frozenset(),
    "progress": frozenset({"stages"}),
    "next_reminder": frozenset({"when"}),
    "no_reminder": frozenset(),
    "language_prompt": frozenset(),
    "language_set": frozenset(),
    "language_name": frozenset(),
    "restart_done": frozenset(),
    "timezone_set": frozenset({"tz", "place", "time"}),
    "timezone_help": frozenset({"tz", "place", "time"}),
    "timezone_choose": frozenset({"typed", "count"}),
    "timezone_unknown": frozenset({"typed", "tz", "place", "time"}),
    "timezone_button": frozenset({"tz", "place", "time"}),
    **{f"cmd_{c}": frozenset() for c in ("start", "help", "progress", "language", "restart",
                                         "timezone")},
}  # fmt: skip
LENGTHS: dict[tuple[str, ...], int] = {
    ("tz",): 64, ("place",): 64, ("time",): 5, ("typed",): TYPED_SHOWN, ("count",): 1,
    ("when",): 24,
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
    """/timezone Paris (a city, a country, an IANA name); /timezone alone asks where."""
    typed = command.args.strip()
    if not typed:
        turn.ask(NAME, TIMEZONE_QUESTION)
        turn.say("timezone_help", **_zone_values(turn, timezone_of(turn.state).key))
        return
    _answer_timezone(turn, typed, find_timezone(typed), show=False)


def timezone_text(turn: Turn, node: Node | None, event: Text, other_meaning: bool) -> bool:
    """Typed text while "where do you live?" is open: a place is taken as the answer;
    text that means something else in the dialog, or a sentence, closes the question."""
    if not turn.was_asked(NAME, TIMEZONE_QUESTION):
        return False
    guess = find_timezone(event.text)
    if guess.zone is None and (other_meaning or len(event.text.split()) > MAX_PLACE_WORDS):
        return False
    _answer_timezone(turn, event.text.strip(), guess, show=True)
    return True


def timezone_press(turn: Turn, value: str, known: object | None) -> bool:
    """One of the places offered (`!tz:Europe__Paris`: a slash is not allowed there)."""
    zone = value.replace("__", "/")
    if not known_timezone(zone):
        return False
    _set_timezone(turn, zone, show=True)
    return True


def _answer_timezone(turn: Turn, typed: str, guess: ZoneGuess, *, show: bool) -> None:
    if guess.zone is not None:
        _set_timezone(turn, guess.zone, show=show)
        return
    turn.ask(NAME, TIMEZONE_QUESTION)  # the next text may name the place
    shown = typed[:TYPED_SHOWN]
    if guess.suggestions:
        buttons = tuple(
            turn.button("timezone_button", "tz", z.replace("/", "__"), **_zone_values(turn, z))
            for z in guess.suggestions
        )
        turn.say("timezone_choose", buttons, typed=shown, count=len(buttons))
    else:
        current = _zone_values(turn, timezone_of(turn.state).key)
        turn.say("timezone_unknown", typed=shown, **current)


def _set_timezone(turn: Turn, zone: str, *, show: bool) -> None:
    turn.state = evolve(turn.state, timezone=zone)
    turn.record("timezone", tz=zone)
    turn.say("timezone_set", **_zone_values(turn, zone))
    if show and turn.state.started:
        turn.show()  # back where they were, with its buttons


def _zone_values(turn: Turn, zone: str) -> dict[str, Any]:
    """A zone as the messages show it: its name, its place, the time there now."""
    local = turn.now.astimezone(ZoneInfo(zone))
    return {"tz": zone, "place": place_name(zone), "time": f"{local.hour:02d}:{local.minute:02d}"}


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
        presses={"lang": language_press, "tz": timezone_press},
        on_text=timezone_text,
        messages=MESSAGES,
        lengths=LENGTHS,
        menu=("start", "progress", "help", "language", "restart", "timezone"),
    )
