"""/mydata and /forget: everything stored about a person, shown or erased. Pure: the
effects say what to do, the runtime does it."""

from __future__ import annotations

from bot.core.events import Command, ExportUserData, ForgetUser, Send
from bot.core.feature import Feature
from bot.core.state import new_state
from bot.core.turn import Turn

NAME = "privacy"
MESSAGES: dict[str, frozenset[str]] = {
    "mydata_intro": frozenset(),
    "forget_confirm": frozenset(),
    "forget_yes": frozenset(),
    "forget_no": frozenset(),
    "forget_done": frozenset(),
    "forget_cancelled": frozenset(),
    "cmd_mydata": frozenset(),
    "cmd_forget": frozenset(),
}


def mydata(turn: Turn, command: Command) -> None:
    turn.effects.append(ExportUserData())


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
        menu=("mydata", "forget"),
    )
