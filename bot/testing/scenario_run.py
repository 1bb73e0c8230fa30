"""Playing a scenario: its people chat with the bot through chat harnesses that share one
clock, one real SQLite store (a file in a folder of its own) and one `Conversations`.

Each person has what they received, in order; an `expect` looks at what arrived since
that person's previous step (a `wait` is everyone's step) and at their stored state.
A keyboard that was pressed is gone, as in Telegram (the bot marks the choice under it).
"""

from __future__ import annotations

import re
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.core.callback import DialogPress, SystemPress, decode, encode_dialog
from bot.core.dialogset import DialogSet
from bot.core.events import ButtonView, Press, Send
from bot.core.render import to_plain
from bot.errors import VieError
from bot.runtime.conversation import Conversations, Person
from bot.store import open_store
from bot.store.interfaces import Store
from bot.testing.harness import ChatHarness, FakeClock, Line, format_line
from bot.testing.scenario_expect import stored
from bot.testing.scenarios import (
    DEFAULT_PERSON,
    Act,
    Expect,
    Pin,
    Scenario,
    Someone,
    Wait,
    loose,
)

_INVITATION = re.compile(r"start=([A-Za-z0-9_-]{1,64})")
_REMINDER = "!nudge:"  # the reminder buttons (go on, tomorrow, not now, no more)


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """How one scenario went: `failure` says where and what was seen instead."""

    name: str
    file: str
    line: int
    passed: bool
    failure: str = ""
    transcript: str = ""  # the whole conversation, as plain text
    seconds: float = 0.0


class StepFailed(VieError, AssertionError):
    """A step could not be played, or an expectation did not hold."""


@dataclass(frozen=True, slots=True)
class Received:
    """One message a person received."""

    send: Send
    by_wait: bool  # sent by the bot on its own while the clock moved (reminders, alerts)


class Participant:
    """One person of the scenario, what they received, and where their window starts."""

    def __init__(self, someone: Someone, harness: ChatHarness) -> None:
        self.someone, self.harness = someone, harness
        self.received: list[Received] = []
        self.window = 0  # what arrived from here on is what their next `expect` reads
        self.used: set[int] = set()  # messages whose keyboard was pressed (gone)

    @property
    def name(self) -> str:
        return self.someone.name

    @property
    def who(self) -> str:
        """How messages name them: "you" for the script's default person."""
        return "you" if self.name == DEFAULT_PERSON else self.name

    def keyboard(self) -> tuple[int, tuple[ButtonView, ...]]:
        """The latest message that has buttons, and its buttons (none once pressed)."""
        for index in range(len(self.received) - 1, -1, -1):
            buttons = self.received[index].send.buttons
            if buttons:
                return index, () if index in self.used else buttons
        return -1, ()

    def since(self) -> list[Received]:
        return self.received[self.window :]


class Play:
    """One run of one scenario."""

    def __init__(self, scenario: Scenario, dialogs: DialogSet, store: Store, default: str) -> None:
        self.scenario = scenario
        self.clock = FakeClock(scenario.start_at)
        self.conversations = Conversations(dialogs, store, default)
        lang = scenario.lang or dialogs.languages[0]
        self.people = {
            s.name: Participant(
                s,
                ChatHarness(
                    self.conversations, Person(i, s.first_name, s.lang or lang), self.clock
                ),
            )
            for i, s in enumerate(scenario.people, start=1)
        }
        self.by_id = {p.harness.person.user_id: p for p in self.people.values()}
        self.log: list[str] = []

    async def run(self) -> str:
        """Play every step; the failure, or "" when all held."""
        for step in self.scenario.steps:
            try:
                if isinstance(step, Wait):
                    await self.wait(step)
                elif isinstance(step, Act):
                    await self.act(step)
                elif isinstance(step, Pin):
                    await self.pin(step)
                else:
                    await self.expect(step)
            except AssertionError as exc:  # StepFailed, and HarnessError (no such button)
                return f"{step.where}:\n{exc}"
            except Exception as exc:  # a bug of the bot: the operator still gets the step
                tail = "".join(traceback.format_exception(exc)[-3:]).rstrip()
                return f"{step.where}:\nthe bot failed on this step ({type(exc).__name__}):\n{tail}"
        return ""

    # -- steps ---------------------------------------------------------------------------
    async def act(self, step: Act) -> None:
        person = self.people[step.who]
        harness, kind = person.harness, step.kind
        if kind.startswith("tap"):
            await self.tap(person, step)
            return
        person.window = len(person.received)
        if kind == "start":
            payload = self.invitation(step) if step.invite_from else str(step.value)
            shown = f"/start {payload}".strip()
            replies = await harness.send(shown)
        elif kind == "send":
            shown, replies = f"<{step.value}>", await harness.send_unsupported(str(step.value))
        else:  # say, command
            shown, replies = str(step.value), await harness.send(str(step.value))
        self.log.append(f"{person.name} > {shown}")
        self.receive(person, replies, by_wait=False)

    async def pin(self, step: Pin) -> None:
        person = self.people[step.who]
        for experiment, arm in step.arms:
            await person.harness.pin(experiment, arm)
            self.log.append(f"-- {person.name} is shown variant {arm} of {experiment}")

    async def tap(self, person: Participant, step: Act) -> None:
        # found before the window moves: a failure shows what the person was looking at
        index, button = self.button(person, step)
        data = outdated(button) if step.kind == "tap_expired" else button.data
        person.window = len(person.received)
        shown = f"[{button.label}]" + {
            "tap_earlier": " (on an earlier message)",
            "tap_expired": " (as shown before its node was edited)",
        }.get(step.kind, "")
        if button.url:  # opens outside the chat: the bot hears nothing, the keyboard stays
            self.log.append(f"{person.name} > {shown} opens {button.url}")
            return
        person.used.add(index)  # Telegram replaces a pressed keyboard by the choice made
        self.log.append(f"{person.name} > {shown}")
        self.receive(person, await person.harness.event(Press(data), shown), by_wait=False)

    async def wait(self, step: Wait) -> None:
        for person in self.people.values():
            person.window = len(person.received)
        first = next(iter(self.people.values()))
        mine = await first.harness.advance(step.delta)
        self.log.append(f"-- {step.where.shown}: now {self.clock.now():%a %d %b %Y %H:%M} UTC")
        self.receive(first, mine, by_wait=True)
        for user_id, sends in first.harness.others.items():
            if user_id in self.by_id:
                self.receive(self.by_id[user_id], sends, by_wait=True)
        first.harness.others.clear()

    def receive(self, person: Participant, sends: list[Send], by_wait: bool) -> None:
        for send in sends:
            person.received.append(Received(send, by_wait))
            shown = format_line(Line("bot", send.text, send.buttons, send.document))
            head = f"  bot → {person.name}" + (" (on its own)" if by_wait else "") + ": "
            self.log.append(head + shown.replace("\n", "\n      "))

    def invitation(self, step: Act) -> str:
        """The payload of the latest invitation link shown to `invite_from`."""
        source = self.people[step.invite_from or ""]
        for got in reversed(source.received):
            urls = " ".join(b.url or "" for b in got.send.buttons)
            found = _INVITATION.findall(f"{got.send.text} {urls}")
            if found:
                return str(found[-1])
        raise StepFailed(
            f"{source.name} was shown no invitation link yet: add `{{as: {source.name}, "
            "command: /invite}` before this step"
        )

    def button(self, person: Participant, step: Act) -> tuple[int, ButtonView]:
        index, buttons = person.keyboard()
        if step.kind != "tap_earlier":
            if not buttons:
                raise StepFailed(self.seen(person, "there is no button to tap", window=False))
            try:
                return index, pick(buttons, step.value)
            except NoSuchButton as exc:
                raise StepFailed(self.seen(person, str(exc), window=False)) from None
        for earlier in range(index - 1, -1, -1):
            shown = person.received[earlier].send.buttons
            if shown and earlier not in person.used:
                try:
                    return earlier, pick(shown, step.value)
                except NoSuchButton:
                    continue
        why = f"no earlier message still shows a button {step.value!r} (a keyboard once pressed is gone)"
        raise StepFailed(self.seen(person, why, window=False))

    async def expect(self, step: Expect) -> None:
        person = self.people[step.who]
        got = person.since()
        texts = [loose(to_plain(r.send.text)) for r in got]
        wrong = [
            f"{f!r} is not in what {person.who} received" for f in step.text if not _any(f, texts)
        ]
        wrong += [
            f"{f!r} was said, and should not have been" for f in step.no_text if _any(f, texts)
        ]
        if step.no_message and got:
            wrong.append(f"{len(got)} message(s) arrived where none was expected")
        if (
            step.nudge is not None
            and any(r.by_wait and reminder(r.send) for r in got) != step.nudge
        ):
            wrong.append("no reminder arrived" if step.nudge else "a reminder arrived")
        names = [loose(r.send.document.name) for r in got if r.send.document is not None]
        wrong += [f"no file named like {f!r} was sent" for f in step.file if not _any(f, names)]
        labels = [b.label for b in person.keyboard()[1]]
        shown = [loose(label) for label in labels]
        if step.buttons is not None and shown != [loose(b) for b in step.buttons]:
            wrong.append(f"the buttons should be {_labels(step.buttons)}")
        wrong += [f"no button {b!r}" for b in step.button if not _any(b, shown)]
        wrong += [f"a button {b!r} is offered" for b in step.no_button if _any(b, shown)]
        if step.stage_done or step.stage_not_done or step.var or step.variant or step.at:
            state = await self.conversations.store.load(person.harness.person.user_id)
            wrong += stored(state, step, person.who)
        if wrong:
            raise StepFailed(self.seen(person, *wrong))

    # -- what was seen ---------------------------------------------------------------------
    def seen(self, person: Participant, *wrong: str, window: bool = True) -> str:
        """What is wrong, then what the person received since their previous step and the
        buttons they can tap: what an operator needs to fix the script or the dialogs."""
        got = person.since()
        who, their = person.who, "your" if person.who == "you" else "their"
        lines = [f"  {why}" for why in wrong]
        if got:
            lines.append(f"  {who} received since {their} previous step:")
        else:
            lines.append(f"  {who} received nothing since {their} previous step.")
            if window and person.window:
                got = person.received[person.window - 1 : person.window]
                lines.append("  (the last message before it:)")
        for r in got:
            text = format_line(Line("bot", r.send.text, r.send.buttons, r.send.document))
            lines += ["    | " + line for line in text.splitlines()]
        labels = [b.label for b in person.keyboard()[1]]
        lines.append(f"  buttons to tap now: {_labels(labels)}")
        return "\n".join(lines)


class NoSuchButton(StepFailed):
    """The button named is not there (the message says which are)."""


def pick(buttons: tuple[ButtonView, ...], choice: str | int) -> ButtonView:
    """The button `choice` names: its number, its exact label, its label loosely, its id,
    else the one label that contains it."""
    labels = _labels([b.label for b in buttons])
    if isinstance(choice, int):
        if choice <= len(buttons):
            return buttons[choice - 1]
        raise NoSuchButton(f"there is no button {choice}: there are {len(buttons)}, {labels}")
    for same in (
        lambda b: b.label == choice,
        lambda b: loose(b.label) == loose(choice),
        lambda b: button_id(b) == choice,
    ):
        found = [b for b in buttons if same(b)]
        if found:
            return found[0]
    found = [b for b in buttons if loose(choice) in loose(b.label)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise NoSuchButton(f"no button {choice!r} among {labels}")
    raise NoSuchButton(
        f"{choice!r} is part of {len(found)} buttons, {_labels([b.label for b in found])}: "
        "write more of the label"
    )


def button_id(button: ButtonView) -> str | None:
    """A dialog button's id (`begin`), or the bot's own button's `action:value`."""
    pressed = decode(button.data)
    if isinstance(pressed, DialogPress):
        return pressed.button
    return f"{pressed.action}:{pressed.value}" if isinstance(pressed, SystemPress) else None


def outdated(button: ButtonView) -> str:
    """The button's data as it was before its node was edited (another version)."""
    pressed = decode(button.data)
    if not isinstance(pressed, DialogPress):
        raise StepFailed(
            f"{button.label!r} is one of the bot's own buttons, which have no version: "
            "tap_expired is for the dialogs' buttons"
        )
    old = "0" if pressed.version != "0" else "1"
    return encode_dialog(old, pressed.flow, pressed.node, pressed.button)


def reminder(send: Send) -> bool:
    return any(b.data.startswith(_REMINDER) for b in send.buttons)


async def run_scenario(
    scenario: Scenario, dialogs: DialogSet, default_language: str | None = None
) -> ScenarioResult:
    """Play one scenario against a new store of its own: its result (a failing step is
    a failed result, not an exception)."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vie-scenario-") as folder:
        store = await open_store(Path(folder) / "scenario.db")
        try:
            play = Play(scenario, dialogs, store, default_language or dialogs.languages[0])
            failure = await play.run()
        finally:
            await store.close()
    return ScenarioResult(
        scenario.name,
        scenario.file,
        scenario.line,
        not failure,
        failure,
        "\n".join(play.log),
        time.perf_counter() - started,
    )


def _any(fragment: str, texts: list[str]) -> bool:
    wanted = loose(fragment)
    return any(wanted in text for text in texts)


def _labels(labels: Sequence[str]) -> str:
    return " ".join(f"[{label}]" for label in labels) if labels else "none"


async def run_scenarios(
    scenarios: Sequence[Scenario], dialogs: DialogSet, default_language: str | None = None
) -> list[ScenarioResult]:
    """Play each scenario, one after the other, each on a store of its own."""
    return [await run_scenario(s, dialogs, default_language) for s in scenarios]
