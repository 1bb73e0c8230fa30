"""What one call of `step` accumulates: the state as it changes and the effects so far.

Features receive the turn and use its small vocabulary: render a message, say it, show a
node, enter one, record an event for the log, ask a question that awaits an answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core import callback, variants
from bot.core.events import ButtonView, Effect, Record, Send
from bot.core.localtime import timezone_of
from bot.core.model import STAGES, Arm, Dialogs, Node, Scalar, Target
from bot.core.render import RenderError, to_plain, truncate_visible
from bot.core.state import Pending, UserState, evolve

MAX_CHAIN = 20  # automatic `goto` hops in one turn; the checker forbids loops anyway
# The last resort when a message itself cannot be rendered: the only text not in YAML.
_BROKEN = {
    "fr": "Désolé, un de mes messages est mal écrit. L'équipe est prévenue ; tapez /help.",
    "en": "Sorry, one of my messages is broken. The team has been told; type /help.",
}


@dataclass(frozen=True, slots=True)
class TurnHooks:
    """What the features want to hear of while a turn shows nodes, and their names."""

    on_enter: tuple[Callable[[Turn, Node], None], ...] = ()
    on_stage: tuple[Callable[[Turn, str], None], ...] = ()
    features: tuple[str, ...] = ()  # in priority order


@dataclass
class Turn:
    """One step in progress; lives only inside that call."""

    dialogs: Dialogs
    state: UserState
    now: datetime
    hooks: TurnHooks = field(default_factory=TurnHooks)
    # the question that was open when the event arrived (the state's own is cleared)
    asked: Pending | None = None
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

    def button(self, key: str, action: str, value: str, **extra: Any) -> ButtonView:
        """One of the bot's own buttons: the label is message `key`, the press `!action:value`."""
        return ButtonView(self.label(key, **extra), callback.encode_system(action, value))

    def when(self, moment: datetime) -> str:
        """A moment in the person's own time zone, as people write it (message `when`;
        month names come from the messages too, never from the process locale)."""
        local = moment.astimezone(timezone_of(self.state))
        months = to_plain(self.message("month_names")).split()
        month = months[local.month - 1] if len(months) == 12 else f"{local.month:02d}"
        return to_plain(
            self.message(
                "when",
                day=f"{local.day:02d}",
                month=f"{local.month:02d}",
                month_name=month,
                time=f"{local.hour:02d}:{local.minute:02d}",
            )
        )

    def record(self, event_name: str, /, **data: Any) -> None:
        self.effects.append(Record(event_name, data))

    def test(self, condition: str | None) -> bool:
        return condition is None or self.dialogs.renderer.test(condition, self.context())

    def ask(self, feature: str, question: str) -> None:
        """Keep a question open: the next event of the person's tells `feature` the answer."""
        self.state = evolve(self.state, pending=Pending(feature, question))

    def was_asked(self, feature: str, question: str) -> bool:
        return self.asked == Pending(feature, question)

    def means(self, text: str, among: Sequence[str]) -> str | None:
        """The intent among `among` that `text` confidently means, if any (for a feature's
        own question: "non" to "did someone invite you?")."""
        matcher = self.dialogs.matcher
        if matcher is None:
            return None
        known = [name for name in among if name in self.dialogs.intents]
        guess = matcher.best(text, self.state.lang, known) if known else None
        return None if guess is None else guess.intent

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

    def variant(self, node: Node) -> Arm | None:
        """The arm of the node's experiment this person sees (None: no variants)."""
        experiment = node.experiment
        return None if experiment is None else variants.arm_of(experiment, self.state)

    def node_text(self, node: Node) -> str:
        """The node's text for this person (with variants, their arm's), with its fact.
        Only reads: what is sent goes through `shown`, which records the exposure."""
        text = self._text(node, self.variant(node))
        return text if text is not None else _BROKEN.get(self.state.lang, _BROKEN["en"])

    def shown(self, node: Node) -> str:
        """The node's text as it is sent now. With variants, the person's arm is kept
        (sticky) and its exposure recorded, each time it is shown; a text that could
        not be rendered showed no arm, and records nothing."""
        experiment = node.experiment
        if experiment is None:
            return self.node_text(node)
        arm = variants.arm_of(experiment, self.state)
        text = self._text(node, arm)
        if text is None:
            return _BROKEN.get(self.state.lang, _BROKEN["en"])
        self.state = variants.keep(self.state, experiment, arm)
        self.record(
            "exposure",
            experiment=experiment.name,
            arm=arm.name,
            node=node.key,
            outcome=experiment.outcome,
        )
        return text

    def _text(self, node: Node, arm: Arm | None) -> str | None:
        say, where = (node.say, node.key) if arm is None else (arm.say, f"{node.key}:{arm.name}")
        text = self.render(say[self.state.lang], where)
        if text is None:
            return None
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
            text = self.shown(node)
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
                for hook in self.hooks.on_enter:
                    hook(self, node)
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
            for hook in self.hooks.on_stage:
                hook(self, stage)

    def show(self) -> None:
        """Show the current node again, without re-applying what entering it did."""
        node = self.current()
        if node is None:
            self.enter(self.dialogs.entry)
            return
        self.effects.append(Send(self.shown(node), self.buttons(node)))
        if self.state.node_version != node.version:
            self.state = evolve(self.state, node_version=node.version)

    def expired(self, reason: str) -> None:
        """A press that does not belong here: say so, show where we are, change nothing."""
        self.record("stale_press", reason=reason)
        self.say("expired_button")
        self.show()


def progress(dialogs: Dialogs, state: UserState) -> dict[str, dict[str, Any]]:
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


def render_message(
    dialogs: Dialogs, state: UserState, key: str, now: datetime, **extra: Any
) -> str:
    """One of the bot's own messages for this person, outside a step (for adapters)."""
    return Turn(dialogs, state, now).message(key, **extra)
