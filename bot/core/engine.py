"""The dialogue engine: `step(dialogs, state, event, now) -> (state, effects)`.

Pure: no I/O, no clock, no globals. It reads the loaded dialogs and the person's state,
and returns the new state with the effects for an adapter to carry out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core import callback
from bot.core.events import (
    ButtonView,
    Command,
    Effect,
    Event,
    NudgeDue,
    Press,
    Record,
    Send,
    Start,
    Text,
    Unsupported,
)
from bot.core.model import DialogSet, Node, Scalar, Target, TextRule
from bot.core.render import TELEGRAM_TEXT_LIMIT, RenderError, to_plain, truncate_visible
from bot.core.state import UserState, evolve
from bot.core.textmatch import matches, normalize
from bot.dialogs.schema import STAGES
from bot.features.advocates import alerts, attribution, dashboard
from bot.features.advocates.records import ALERTS_KEY, DORMANT_KEY, JOURNEY_STAGE, REFERRER_QUESTION
from bot.features.answers import answers
from bot.features.nudges import followups

MAX_CHAIN = 20  # automatic `goto` hops in one turn; the checker forbids loops anyway
UNSUPPORTED_KINDS = frozenset({"sticker", "photo", "voice", "video", "document", "edited", "other"})
_BROKEN = {
    "fr": "Désolé, un de mes messages est mal écrit. L'équipe est prévenue ; tapez /help.",
    "en": "Sorry, one of my messages is broken. The team has been told; type /help.",
}


@dataclass
class Turn:
    """What one call of `step` accumulates; lives only inside that call."""

    dialogs: DialogSet
    state: UserState
    now: datetime
    effects: list[Effect] = field(default_factory=list)
    _context: tuple[UserState, dict[str, Any]] | None = None

    # -- rendering ------------------------------------------------------------------
    def context(self, **extra: Any) -> dict[str, Any]:
        s = self.state
        if self._context is None or self._context[0] is not s:
            # rebuilt only when the state changed: every button condition reads it
            variables: dict[str, Scalar | None] = dict.fromkeys(self.dialogs.variables)
            variables.update(s.vars)
            base = {
                "user": {"first_name": s.first_name, "lang": s.lang},
                "vars": variables,
                "progress": progress(self.dialogs, s),
            }
            self._context = (s, base)
        return {**self._context[1], **extra} if extra else self._context[1]

    def render(self, source: str, where: str, **extra: Any) -> str | None:
        try:
            return truncate_visible(self.dialogs.renderer.render(source, self.context(**extra)))
        except RenderError as exc:
            self.record("render_error", where=where, error=str(exc)[:200])
            return None

    def message(self, key: str, **extra: Any) -> str:
        text = self.render(self.dialogs.messages[key][self.state.lang], f"message:{key}", **extra)
        return text if text is not None else _BROKEN.get(self.state.lang, _BROKEN["en"])

    def label(self, key: str, **extra: Any) -> str:
        """One of the bot's messages as a button label: plain text, not HTML."""
        return to_plain(self.message(key, **extra))[:64]

    def say(self, key: str, buttons: tuple[ButtonView, ...] = (), **extra: Any) -> None:
        self.effects.append(Send(self.message(key, **extra), buttons))

    def record(self, event_name: str, /, **data: Any) -> None:
        self.effects.append(Record(event_name, data))

    def test(self, condition: str | None) -> bool:
        return condition is None or self.dialogs.renderer.test(condition, self.context())

    # -- nodes ------------------------------------------------------------------------
    def current(self) -> Node | None:
        return self.dialogs.node_at(self.state.flow, self.state.node)

    def buttons(self, node: Node | None) -> tuple[ButtonView, ...]:
        if node is None:
            return ()
        lang = self.state.lang
        return tuple(
            ButtonView(
                b.label[lang], callback.encode_dialog(node.version, node.flow, node.id, b.id)
            )
            for b in node.buttons
            if self.test(b.when)
        )

    def node_text(self, node: Node) -> str:
        text = self.render(node.say[self.state.lang], node.key)
        if text is None:
            return _BROKEN.get(self.state.lang, _BROKEN["en"])
        fact = self.dialogs.facts.get(node.fact) if node.fact else None
        if fact is not None:
            shown = {
                "text": fact.text[self.state.lang],
                "source": fact.source,
                "year": fact.year,
                "url": fact.url or "",
            }
            text = truncate_visible(f"{text}\n\n{self.message('fact_line', fact=shown)}")
        return text

    def set_vars(self, values: Mapping[str, Scalar]) -> None:
        if values:
            self.state = evolve(self.state, vars={**self.state.vars, **values})

    def enter(self, target: Target) -> None:
        """Show `target`, applying its `set`, milestone and stage, following `goto` arms."""
        for _ in range(MAX_CHAIN):
            node = self.dialogs.node(target)
            if node is None:  # only after a dialog change; the checker prevents it otherwise
                target = self.dialogs.entry
                continue
            self.reach(node)
            text = self.node_text(node)
            arm = next((b for b in node.goto if self.test(b.condition)), None)
            if arm is None:
                self.state = evolve(
                    self.state,
                    flow=node.flow,
                    node=node.id,
                    node_version=node.version,
                    dialog_version=self.dialogs.version,
                )
                self.effects.append(Send(text, self.buttons(node)))
                followups.plan(self, node)
                return
            self.effects.append(Send(text))
            target = arm.target
        self.record("goto_chain_too_long", node=str(target))

    def reach(self, node: Node) -> None:
        self.set_vars(node.set)
        s = self.state
        stage = self.dialogs.flows[node.flow].stage
        if node.milestone and node.milestone not in s.milestones:
            self.state = s = evolve(s, milestones=s.milestones | {node.milestone})
            self.record("milestone", milestone=node.milestone, stage=stage)
        if node.completes and stage and stage not in s.completed:
            self.state = evolve(s, completed=s.completed | {stage})
            self.record("stage_completed", stage=stage)
            alerts.notify(self, "stage", stage)

    def show(self) -> None:
        """Show the current node again, without re-applying what entering it did."""
        node = self.current()
        if node is None:
            self.enter(self.dialogs.entry)
            return
        self.effects.append(Send(self.node_text(node), self.buttons(node)))
        if self.state.node_version != node.version:
            self.state = evolve(self.state, node_version=node.version)


def progress(dialogs: DialogSet, state: UserState) -> dict[str, dict[str, Any]]:
    """Per stage: milestones reached, how many there are, and whether it is completed."""
    reached = dict.fromkeys(STAGES, 0)
    for milestone in state.milestones:
        stage = dialogs.milestone_stage.get(milestone)
        if stage:
            reached[stage] += 1
    return {
        s: {
            "reached": reached[s],
            "total": dialogs.stage_totals.get(s, 0),
            "done": s in state.completed,
        }
        for s in STAGES
    }


def render_message(dialogs: DialogSet, state: UserState, key: str, **extra: Any) -> str:
    """One of the bot's own messages for this person (for adapters that need one)."""
    return Turn(dialogs, state, state.updated_at or state.created_at).message(key, **extra)


def step(
    dialogs: DialogSet, state: UserState, event: Event, now: datetime
) -> tuple[UserState, tuple[Effect, ...]]:
    """Process one event for one person: the new state and the effects to carry out."""
    from bot.features.basics.commands import (  # commands build on Turn, defined here
        on_command,
        on_system_press,
    )

    turn = Turn(dialogs, state, now)
    if isinstance(event, NudgeDue):
        # Not the person's doing: nothing of theirs (a pending question…) is touched.
        if event.key == ALERTS_KEY:
            alerts.on_alerts_due(turn, event)
        elif event.key == DORMANT_KEY:
            alerts.on_dormant_due(turn)
        elif turn.current() is None:
            turn.record("nudge_stale", key=event.key)
        else:
            followups.on_due(turn, event)
        return _done(turn)
    if turn.state.ignored_in_a_row:
        turn.state = evolve(turn.state, ignored_in_a_row=0)  # they are back: not ignoring
    answering = turn.state.pending == REFERRER_QUESTION and isinstance(event, Text)
    if (
        turn.state.pending is not None
        and not answering
        and (not isinstance(event, Press) or not event.data.startswith("!"))
    ):
        turn.state = evolve(turn.state, pending=None)
    if turn.state.started and turn.current() is None:
        # The dialogs changed under this person: their node is gone.
        flow = turn.state.flow
        turn.say("dialog_updated")
        turn.record("dialog_updated", flow=flow, node=turn.state.node)
        turn.enter(dialogs.start_of(flow) if flow and flow in dialogs.flows else dialogs.entry)
        if isinstance(event, Start | Press):
            return _done(turn, active=True)

    if isinstance(event, Start):
        _on_start(turn, event)
    elif isinstance(event, Press):
        decoded = callback.decode(event.data)
        if isinstance(decoded, callback.SystemPress):
            on_system_press(turn, decoded, event.known)
        else:
            _on_press(turn, decoded)
    elif isinstance(event, Text):
        _on_text(turn, event)
    elif isinstance(event, Command):
        on_command(turn, event)
    elif isinstance(event, Unsupported):
        kind = event.kind if event.kind in UNSUPPORTED_KINDS else "other"
        turn.record("unsupported", kind=kind)
        turn.say("unsupported", turn.buttons(turn.current()), kind=kind)
    if JOURNEY_STAGE in turn.state.completed and JOURNEY_STAGE not in state.completed:
        dashboard.offer_advocacy(turn)
    alerts.watch(turn)
    return _done(turn, active=True)


def _done(turn: Turn, active: bool = False) -> tuple[UserState, tuple[Effect, ...]]:
    """The final state: stamped with the time, and as active now if the person acted (one
    `replace` for both: it is a noticeable part of a step's cost)."""
    if active:
        return evolve(turn.state, updated_at=turn.now, active_at=turn.now), tuple(turn.effects)
    return evolve(turn.state, updated_at=turn.now), tuple(turn.effects)


def _on_start(turn: Turn, event: Start) -> None:
    if not turn.state.started:
        attribution.arrive(turn, event)
        return
    if event.payload:  # someone who already uses the bot: their first touch stands
        turn.record("invite_link", credited=False)
    turn.record("resume")
    turn.say("welcome_back")
    turn.show()


def expired(turn: Turn, reason: str) -> None:
    """A press that does not belong here: say so, show where we are, change nothing."""
    turn.record("stale_press", reason=reason)
    turn.say("expired_button")
    turn.show()


def _on_press(turn: Turn, press: callback.DialogPress | None) -> None:
    node = turn.current()
    if press is None:
        expired(turn, "malformed")
        return
    if node is None or (press.flow, press.node) != (node.flow, node.id):
        expired(turn, "not_current_node")
        return
    if press.version != node.version:
        expired(turn, "old_version")
        return
    button = next((b for b in node.buttons if b.id == press.button), None)
    if button is None or not turn.test(button.when):
        expired(turn, "unknown_button")
        return
    turn.record("press", node=node.key, button=button.id)
    turn.set_vars(button.set)
    turn.enter(button.target)


def _rule_for(turn: Turn, node: Node | None, text: str) -> TextRule | None:
    """The node's own rules first (in every language), then the rules that apply anywhere."""
    said = normalize(text)
    langs = (turn.state.lang, *(lang for lang in turn.dialogs.languages if lang != turn.state.lang))
    for rules in ((node.on_text if node else ()), turn.dialogs.anywhere):
        for lang in langs:
            for rule in rules:
                if matches(said, rule.keywords.get(lang, ())):
                    return rule
    return None


def _on_text(turn: Turn, event: Text) -> None:
    text = event.text
    if len(text) > TELEGRAM_TEXT_LIMIT:
        turn.record("too_long", length=len(text))
        turn.say("too_long", turn.buttons(turn.current()), limit=TELEGRAM_TEXT_LIMIT)
        return
    if not turn.state.started:
        _on_start(turn, Start())
        return
    node = turn.current()
    rule = _rule_for(turn, node, text)
    if turn.state.pending == REFERRER_QUESTION and attribution.answer(
        turn, event, other_meaning=rule is not None
    ):
        return
    if (
        node is not None
        and node.input is not None
        and answers.answer(turn, node, event, other_meaning=rule is not None)
    ):
        return
    if rule is not None:
        turn.record("text_match", node=node.key if node else "", line=rule.line)
        turn.set_vars(rule.set)
        turn.enter(rule.target)
        return
    turn.record("fallback", node=node.key if node else "")
    turn.say("fallback", turn.buttons(node))
