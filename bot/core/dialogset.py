"""A loaded dialog set and the features it was checked against: all `step` needs.

The routing tables are built once from the features, when the set is assembled, so that
a step looks a command, an action or an outbox key up in a dictionary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.core.feature import (
    AfterHook,
    CommandHandler,
    DueHandler,
    Feature,
    NodeHook,
    PressHandler,
    StageHook,
    StartHook,
    TextHook,
    TurnHook,
    check_features,
)
from bot.core.model import Fact, Flow, Node, Target, TextRule, Texts

if TYPE_CHECKING:
    from bot.core.render import Renderer


@dataclass(frozen=True, slots=True)
class Routes:
    """The features' tables merged, and their hooks in order."""

    commands: Mapping[str, CommandHandler]
    presses: Mapping[str, PressHandler]
    due: Mapping[str, DueHandler]
    on_start: tuple[StartHook, ...]
    on_text: tuple[TextHook, ...]
    on_action: tuple[TurnHook, ...]
    on_enter: tuple[NodeHook, ...]
    on_stage: tuple[StageHook, ...]
    after_turn: tuple[AfterHook, ...]

    @classmethod
    def of(cls, features: tuple[Feature, ...]) -> Routes:
        check_features(features)
        return cls(
            commands={k: h for f in features for k, h in f.commands.items()},
            presses={k: h for f in features for k, h in f.presses.items()},
            due={k: h for f in features for k, h in f.due.items()},
            on_start=tuple(f.on_start for f in features if f.on_start),
            on_text=tuple(f.on_text for f in features if f.on_text),
            on_action=tuple(f.on_action for f in features if f.on_action),
            on_enter=tuple(f.on_enter for f in features if f.on_enter),
            on_stage=tuple(f.on_stage for f in features if f.on_stage),
            after_turn=tuple(f.after_turn for f in features if f.after_turn),
        )


@dataclass(frozen=True, slots=True)
class DialogSet:
    """Everything the engine needs to talk: flows, facts, the bot's own messages, and the
    features that handle the rest (in priority order)."""

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
    features: tuple[Feature, ...] = ()
    routes: Routes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "routes", Routes.of(self.features))

    def node(self, target: Target) -> Node | None:
        flow = self.flows.get(target.flow)
        return None if flow is None else flow.nodes.get(target.node)

    def node_at(self, flow: str | None, node: str | None) -> Node | None:
        """The node a person is at (their state's `flow` and `node`), if it exists."""
        return None if flow is None or node is None else self.node(Target(flow, node))

    def start_of(self, flow_id: str) -> Target:
        return Target(flow_id, self.flows[flow_id].start)

    def feature(self, name: str) -> Feature | None:
        return next((f for f in self.features if f.name == name), None)
