"""A person's conversation state: an immutable record the engine replaces, never edits.

The core keeps what every conversation has (who, where in the dialogs, what was reached);
each feature keeps its own frozen record in `parts`, under its name, read and written
through a `Part` key, so the core never knows what a feature remembers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from operator import attrgetter
from typing import Any, Generic, TypeVar, cast

from bot.core.model import Scalar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Pending:
    """A question awaiting the person's answer, owned by the feature that asked it."""

    feature: str
    question: str

    def __str__(self) -> str:
        return f"{self.feature}:{self.question}"

    @classmethod
    def parse(cls, stored: str | None) -> Pending | None:
        """The stored form `feature:question` back (None for anything else)."""
        if not stored or ":" not in stored:
            return None
        feature, question = stored.split(":", 1)
        return cls(feature, question)


@dataclass(frozen=True, slots=True)
class UserState:
    """Everything the engine knows about one person."""

    user_id: int
    lang: str
    created_at: datetime
    first_name: str = ""
    flow: str | None = None  # None until the first message was shown
    node: str | None = None
    node_version: str = ""
    vars: Mapping[str, Scalar] = field(default_factory=dict)
    milestones: frozenset[str] = frozenset()
    completed: frozenset[str] = frozenset()  # stages (V, I, E) completed
    blocked: bool = False  # the person blocked the bot on Telegram
    pending: Pending | None = None  # a question awaiting an answer
    dialog_version: str = ""
    updated_at: datetime | None = None
    timezone: str = ""  # IANA name chosen with /timezone; "" = the language's default
    active_at: datetime | None = None  # the person's last own action (not the bot's)
    parts: Mapping[str, object] = field(default_factory=dict)  # feature name -> its record

    @property
    def started(self) -> bool:
        return self.flow is not None


@dataclass(frozen=True, slots=True)
class Part(Generic[T]):
    """The key of one feature's record in `UserState.parts`, with its default value."""

    name: str
    default: T

    def of(self, state: UserState) -> T:
        return cast(T, state.parts.get(self.name, self.default))

    def put(self, state: UserState, value: T) -> UserState:
        """The state with this record; a record equal to the default is not kept, so that
        two states that mean the same are equal."""
        parts = {k: v for k, v in state.parts.items() if k != self.name}
        if value != self.default:
            parts[self.name] = value
        return evolve(state, parts=parts)

    def update(self, state: UserState, **changes: Any) -> UserState:
        """The state with these fields of the feature's record changed."""
        return self.put(state, replace(cast(Any, self.of(state)), **changes))


def new_state(user_id: int, lang: str, now: datetime, first_name: str = "") -> UserState:
    """The state of someone the bot has never met."""
    return UserState(
        user_id=user_id, lang=lang, created_at=now, first_name=first_name, updated_at=now
    )


_NAMES = tuple(f.name for f in fields(UserState))
_ALL = attrgetter(*_NAMES)


def evolve(state: UserState, **changes: Any) -> UserState:
    """`dataclasses.replace` for UserState, about 2.5 times faster: every step makes a few
    of these. It sets the fields directly (the class has no `__post_init__` to skip); a
    misspelt name fails, the class having `__slots__`."""
    new = object.__new__(UserState)
    for name, value in zip(_NAMES, _ALL(state), strict=True):
        object.__setattr__(new, name, value)
    for name, value in changes.items():
        object.__setattr__(new, name, value)
    return new
