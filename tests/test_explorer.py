"""The explorer: every flow in both languages, every button pressed, nonsense typed at
every node. No error, no dead end, every text within Telegram's limits and valid HTML,
every link well formed, every fact with its source and its year."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from bot.core import callback
from bot.core.dialogset import DialogSet
from bot.core.engine import step
from bot.core.events import Event, Press, Record, Send, Start, Text
from bot.core.links import parse_web_url
from bot.core.model import Target
from bot.core.render import TELEGRAM_TEXT_LIMIT, to_plain, visible_length
from bot.core.state import UserState, new_state
from bot.features.advocates.records import Invitation
from bot.testing.botapi import check_html

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NONSENSE = "zq blorp ?! 42"
LONG_LINK = "https://www.example.org/recettes/tarte-aux-pommes-de-grand-mere?source=carnet&page=2"
SHORT_LINK = "https://tinyurl.com/tarte42"
MAX_STEPS = 60_000
_HREF = re.compile(r'<a href="([^"]*)"')
_BARE_URL = re.compile(r"(?<![\"=])\bhttps?://[^\s<>\"]+")


@dataclass
class Walk:
    dialogs: DialogSet
    lang: str
    visited: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    steps: int = 0

    def play(self, state: UserState, event: Event, what: str) -> tuple[UserState, tuple[Send, ...]]:
        after, effects = step(self.dialogs, state, event, NOW)
        self.steps += 1
        where = f"{self.lang} {state.flow}.{state.node} {what}"
        sends = tuple(e for e in effects if isinstance(e, Send))
        for e in effects:
            if isinstance(e, Record) and e.name in ("render_error", "goto_chain_too_long"):
                self.problems.append(f"{where}: {e.name} {dict(e.data)}")
        if not sends:
            self.problems.append(f"{where}: the bot said nothing")
        for send in sends:
            self.check_send(send, where)
        if after.flow and after.node:
            self.visited.add(f"{after.flow}.{after.node}")
            node = self.dialogs.node(Target(after.flow, after.node))
            dialog_buttons = any(b.data[:1] not in ("!", "") for s in sends for b in s.buttons)
            if node is not None and not dialog_buttons and not node.input:
                self.problems.append(f"{where}: dead end at {after.flow}.{after.node}")
        return after, sends

    def check_send(self, send: Send, where: str) -> None:
        if visible_length(send.text) > TELEGRAM_TEXT_LIMIT:
            self.problems.append(f"{where}: text over {TELEGRAM_TEXT_LIMIT} characters")
        if problem := check_html(send.text):
            self.problems.append(f"{where}: Telegram would refuse the HTML: {problem}")
        for link in _HREF.findall(send.text) + _BARE_URL.findall(to_plain(send.text)):
            if parse_web_url(link.rstrip(".,;:)»")) is None:
                self.problems.append(f"{where}: malformed link {link!r}")
        for button in send.buttons:
            if not button.label.strip() or len(button.label) > 64:
                self.problems.append(f"{where}: button label {button.label!r}")
            if button.url is None and callback.decode(button.data) is None:
                self.problems.append(f"{where}: button data {button.data!r} does not decode")
        for fact in self.dialogs.facts.values():
            if fact.text[self.lang] in send.text:
                shown = send.text[send.text.index(fact.text[self.lang]) :]
                if fact.source not in shown or str(fact.year) not in shown:
                    self.problems.append(f"{where}: fact {fact.id} without source and year")


def _key(state: UserState) -> tuple[object, ...]:
    v = state.vars
    return (state.flow, state.node, v.get("device"), v.get("network"), v.get("step"),
            bool(v.get("long_url")), state.pending)  # fmt: skip


def explore(dialogs: DialogSet, lang: str) -> Walk:
    walk = Walk(dialogs, lang)
    newcomer = new_state(1, lang, NOW, "Zoé")
    invitation = Invitation("P" * 22, "ABCDE12345", 7, "Paul", path=(7,))
    queue: deque[tuple[UserState, tuple[Send, ...]]] = deque(
        [
            walk.play(newcomer, Start(), "/start"),
            walk.play(newcomer, Start("P" * 22, known=invitation), "/start with an invitation"),
        ]
    )
    seen = {_key(state) for state, _ in queue}
    while queue and walk.steps < MAX_STEPS:
        state, sends = queue.popleft()
        # the dialog's own keyboard (the bot's own buttons need the store: tested elsewhere)
        keyboard = next(
            (
                s.buttons
                for s in reversed(sends)
                if any(b.data[:1] not in ("!", "") for b in s.buttons)
            ),
            (),
        )
        events: list[tuple[Event, str]] = [
            (Press(b.data), f"[{b.label}]") for b in keyboard if b.data[:1] not in ("!", "")
        ]
        events.append((Text(NONSENSE), "nonsense"))
        node = dialogs.node_at(state.flow, state.node)
        if node is not None and node.input is not None:
            events.append((Text(LONG_LINK if node.input.kind == "url" else SHORT_LINK), "a link"))
        for event, what in events:
            after, shown = walk.play(state, event, what)
            if _key(after) not in seen:
                seen.add(_key(after))
                queue.append((after, shown))
    return walk


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_flow_every_button_every_node(bundled: DialogSet, lang: str) -> None:
    walk = explore(bundled, lang)
    assert walk.problems == [], "\n".join(walk.problems[:20])
    # every node the conversation can rest on was reached (`goto` nodes only pass by)
    resting = {f"{f.id}.{n.id}" for f in bundled.flows.values() for n in f.nodes.values()
               if not n.goto}  # fmt: skip
    assert sorted(resting - walk.visited) == [], f"never reached in {lang}"
    assert walk.steps < MAX_STEPS, "the walk was cut short"
