"""A loaded dialog set and the features it was checked against: all `step` needs.

The routing tables are built once from the features, when the set is assembled, so that
a step looks a command, an action or an outbox key up in a dictionary.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.feature import (
    AfterHook,
    CommandHandler,
    DueHandler,
    Feature,
    PressHandler,
    StartHook,
    TextHook,
    TurnHook,
    check_features,
)
from bot.core.model import Dialogs
from bot.core.turn import TurnHooks


@dataclass(frozen=True, slots=True)
class Routes:
    """The features' tables merged, and their hooks in order."""

    commands: Mapping[str, CommandHandler]
    presses: Mapping[str, PressHandler]
    due: Mapping[str, DueHandler]
    on_start: tuple[StartHook, ...]
    on_text: tuple[TextHook, ...]
    on_action: tuple[TurnHook, ...]
    after_turn: tuple[AfterHook, ...]
    turn: TurnHooks  # what a turn calls itself, as it shows nodes and completes stages

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
            after_turn=tuple(f.after_turn for f in features if f.after_turn),
            turn=TurnHooks(
                on_enter=tuple(f.on_enter for f in features if f.on_enter),
                on_stage=tuple(f.on_stage for f in features if f.on_stage),
                features=tuple(f.name for f in features),
            ),
        )


@dataclass(frozen=True, slots=True)
class DialogSet(Dialogs):
    """The dialogs and the features that handle the rest (in priority order): all that
    `step` needs."""

    features: tuple[Feature, ...] = ()
    routes: Routes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "routes", Routes.of(self.features))
