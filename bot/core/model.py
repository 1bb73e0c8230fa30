"""The typed, immutable model of a loaded dialog set."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Protocol

from bot.understanding.matcher import Guess

if TYPE_CHECKING:
    from bot.core.render import Renderer


class IntentMatcher(Protocol):
    """What the engine asks of the matcher built from the intents (`bot.understanding`)."""

    @property
    def names(self) -> tuple[str, ...]:
        """The intents it knows."""

    def best(self, text: str, lang: str, among: Collection[str] | None = None) -> Guess | None:
        """The likeliest intent, when it is clear enough to act on."""

    def rank(
        self, text: str, lang: str, among: Collection[str] | None = None, limit: int = 3
    ) -> tuple[Guess, ...]:
        """The likeliest intents, best first."""

    def scores(self, text: str, lang: str) -> dict[str, float]:
        """Every intent's score (those above zero)."""


Scalar = str | int | float | bool
Texts = Mapping[str, str]  # language -> template source
STAGES = ("V", "I", "E")  # Viraliser, Informer, Eduquer
JOURNEY_STAGE = "E"  # finishing this stage is finishing the journey
# Intents every dialog set defines (dialogs/intents.yaml): the words every node understands.
BUILTIN_INTENTS = ("yes", "no", "dont_know", "later", "stop", "help", "menu")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a button, a text rule or a `goto` leads."""

    flow: str
    node: str

    def __str__(self) -> str:
        return f"{self.flow}.{self.node}"


@dataclass(frozen=True, slots=True)
class Branch:
    """One arm of a `goto`: taken when `condition` is true (or always, if None)."""

    condition: str | None
    target: Target


@dataclass(frozen=True, slots=True)
class Button:
    id: str
    label: Texts
    target: Target
    set: Mapping[str, Scalar]
    when: str | None
    line: int
    intents: tuple[str, ...] = ()  # typing what one of these means presses the button


@dataclass(frozen=True, slots=True)
class TextRule:
    """What typed text must mean (keywords, already normalised, per language; or one of
    `intents`), and what follows: go to `target`, or say `reply` and stay (target None)."""

    keywords: Mapping[str, tuple[str, ...]]
    target: Target | None
    set: Mapping[str, Scalar]
    line: int
    intents: tuple[str, ...] = ()
    reply: Texts | None = None


@dataclass(frozen=True, slots=True)
class IntentText:
    """An intent as the dialogs define it: examples per language, and the words of a
    "did you mean…?" button (its first example when no label is given)."""

    name: str
    examples: Mapping[str, tuple[str, ...]]
    label: Texts
    line: int


@dataclass(frozen=True, slots=True)
class Followup:
    """A nudge sent if the person stays on a node: `after` is None when it did not parse."""

    after: timedelta | None
    after_text: str
    say: Texts
    line: int


@dataclass(frozen=True, slots=True)
class Answer:
    """A typed answer a node waits for (`input:`), checked by the engine.

    `url`: a web link. `short_url`: a link on one of `shorteners`, shorter than the link
    kept in the variable `of`. A good answer is kept in the variable `save`, then the
    conversation goes on at `target`."""

    kind: str
    save: str
    target: Target
    of: str | None
    shorteners: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Arm:
    """One variant of an experiment's text: its name, its share of the newcomers
    (`weight`, relative to the others'; 0 shows it to nobody new), and its text."""

    name: str
    weight: float
    say: Texts
    line: int


@dataclass(frozen=True, slots=True)
class Experiment:
    """A node's `say:` with named variants (an A/B test): each person sees one arm, the
    same every time. `outcome` is what counts as converting, `milestone:<id>` or
    `stage:<V|I|E>`, as the exposure events and the report write it."""

    name: str
    node: str  # where it is shown: "flow.node"
    outcome: str
    arms: tuple[Arm, ...]
    line: int  # of `experiment:`
    outcome_line: int

    def arm(self, name: object) -> Arm | None:
        return next((a for a in self.arms if a.name == name), None)

    @property
    def milestone(self) -> str | None:
        """The milestone that counts as converting, when the outcome is one."""
        kind, _, name = self.outcome.partition(":")
        return name if kind == "milestone" else None

    @property
    def stage(self) -> str | None:
        """The stage whose completion counts as converting, when the outcome is one."""
        kind, _, name = self.outcome.partition(":")
        return name if kind == "stage" else None


@dataclass(frozen=True, slots=True)
class Node:
    flow: str
    id: str
    say: Texts
    fact: str | None
    buttons: tuple[Button, ...]
    on_text: tuple[TextRule, ...]
    goto: tuple[Branch, ...]
    set: Mapping[str, Scalar]
    milestone: str | None
    completes: bool
    end: bool
    line: int
    version: str  # short hash of the definition: buttons shown by an older one expire
    nudges: tuple[Followup, ...] = ()
    input: Answer | None = None
    # the places this node had before (`renamed_from:`): people there move here
    renamed_from: tuple[Target, ...] = ()
    # `say:` with variants: `say` above is the first arm's texts (what the graph and
    # every other reader show); what a person is shown is their arm's (`Turn.node_text`)
    experiment: Experiment | None = None

    @property
    def key(self) -> str:
        return f"{self.flow}.{self.id}"


@dataclass(frozen=True, slots=True)
class Flow:
    id: str
    stage: str | None
    start: str
    nodes: Mapping[str, Node]
    file: str
    line: int
    on_text: tuple[TextRule, ...] = ()  # free-text rules that apply at every node
    # the flow's default follow-ups (`nudges:` at the top of the file), already given to
    # every node that waits for the person and has no `nudges:` of its own
    nudges: tuple[Followup, ...] = ()


@dataclass(frozen=True, slots=True)
class Fact:
    """A figure or a finding the dialogs quote: `source` is its publisher, `study` the
    study's title and `scope` whom it is about (per language), `url` where a person can
    check it. `reviewed`: the day someone last checked that it still holds, which quiets
    its age warning for a year."""

    id: str
    text: Texts
    source: str
    year: int
    url: str | None
    file: str
    line: int
    study: Texts = field(default_factory=dict)
    scope: Texts = field(default_factory=dict)
    reviewed: date | None = None


@dataclass(frozen=True, slots=True)
class Dialogs:
    """The loaded dialogs: flows, facts, the bot's own messages. (`DialogSet` adds the
    features that handle the rest.)"""

    flows: Mapping[str, Flow]
    facts: Mapping[str, Fact]
    messages: Mapping[str, Texts]
    languages: tuple[str, ...]
    entry: Target
    version: str
    renderer: Renderer = field(repr=False, compare=False)
    variables: frozenset[str] = frozenset()
    # every flow's `on_text`, tried after the current node's own rules
    anywhere: tuple[TextRule, ...] = ()
    # milestone id -> stage, and stage -> number of milestones, for progress views
    milestone_stage: Mapping[str, str] = field(default_factory=dict)
    stage_totals: Mapping[str, int] = field(default_factory=dict)
    # what people may mean when they type (dialogs/intents.yaml), and the matcher built
    # from their examples when the dialogs were loaded
    intents: Mapping[str, IntentText] = field(default_factory=dict)
    matcher: IntentMatcher | None = field(default=None, repr=False, compare=False)
    # a node's former place ("flow.node") -> where it is now, from `renamed_from:`
    renamed: Mapping[str, Target] = field(default_factory=dict)
    # the experiments (`say:` with variants) by name, each at its one node
    experiments: Mapping[str, Experiment] = field(default_factory=dict)

    def node(self, target: Target) -> Node | None:
        flow = self.flows.get(target.flow)
        return None if flow is None else flow.nodes.get(target.node)

    def node_at(self, flow: str | None, node: str | None) -> Node | None:
        """The node a person is at (their state's `flow` and `node`), if it exists."""
        return None if flow is None or node is None else self.node(Target(flow, node))

    def start_of(self, flow_id: str) -> Target:
        return Target(flow_id, self.flows[flow_id].start)

    def part_start(self, flow_id: str | None) -> Target:
        """Where someone whose node is gone picks up: the start of the same flow (its
        part of the journey), or the entry when the flow is gone too."""
        if flow_id is None or flow_id not in self.flows:
            return self.entry
        return self.start_of(flow_id)
