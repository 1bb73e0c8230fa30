"""The typed, immutable model of a loaded dialog set."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.features.advocates.records import AdvocatePolicy
from bot.features.nudges.policy import NudgePolicy

if TYPE_CHECKING:
    from bot.core.render import Renderer

Scalar = str | int | float | bool
Texts = Mapping[str, str]  # language -> template source


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


@dataclass(frozen=True, slots=True)
class TextRule:
    """Free-text keywords (already normalised) per language, and where they lead."""

    keywords: Mapping[str, tuple[str, ...]]
    target: Target
    set: Mapping[str, Scalar]
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


@dataclass(frozen=True, slots=True)
class Fact:
    id: str
    text: Texts
    source: str
    year: int
    url: str | None
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class DialogSet:
    """Everything the engine needs to talk: flows, facts, the bot's own messages."""

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
    # how polite follow-ups are (quiet hours, caps…): from the configuration
    nudge_policy: NudgePolicy = field(default_factory=NudgePolicy)
    # invitations, alerts and the dashboard: from the configuration too
    advocacy: AdvocatePolicy = field(default_factory=AdvocatePolicy)
    # milestone id -> stage, and stage -> number of milestones, for progress views
    milestone_stage: Mapping[str, str] = field(default_factory=dict)
    stage_totals: Mapping[str, int] = field(default_factory=dict)

    def node(self, target: Target) -> Node | None:
        flow = self.flows.get(target.flow)
        return None if flow is None else flow.nodes.get(target.node)

    def node_at(self, flow: str | None, node: str | None) -> Node | None:
        """The node a person is at (their state's `flow` and `node`), if it exists."""
        return None if flow is None or node is None else self.node(Target(flow, node))

    def start_of(self, flow_id: str) -> Target:
        return Target(flow_id, self.flows[flow_id].start)


# The bot's own messages (dialogs/messages.yaml) and the extra names each may use.
MESSAGE_PARAMS: Mapping[str, frozenset[str]] = {
    "help": frozenset(),
    "fallback": frozenset(),
    "expired_button": frozenset(),
    "too_long": frozenset({"limit"}),
    "unsupported": frozenset({"kind"}),
    "unknown_command": frozenset({"command"}),
    "group_only": frozenset(),
    "welcome_back": frozenset(),
    "dialog_updated": frozenset(),
    "progress": frozenset({"stages"}),
    "stage_V": frozenset(),
    "stage_I": frozenset(),
    "stage_E": frozenset(),
    "language_prompt": frozenset(),
    "language_set": frozenset(),
    "restart_done": frozenset(),
    "stop_done": frozenset(),
    "mydata_intro": frozenset(),
    "forget_confirm": frozenset(),
    "forget_yes": frozenset(),
    "forget_no": frozenset(),
    "forget_done": frozenset(),
    "forget_cancelled": frozenset(),
    "fact_line": frozenset({"fact"}),
    "nudge_continue": frozenset(),
    "nudge_tomorrow": frozenset(),
    "nudge_later": frozenset(),
    "nudge_stop": frozenset(),
    "nudge_snoozed": frozenset({"when"}),
    "next_reminder": frozenset({"when"}),
    "no_reminder": frozenset(),
    "reminders_on": frozenset(),
    "timezone_set": frozenset({"tz"}),
    "timezone_help": frozenset({"tz"}),
    # advocates
    "help_advocate": frozenset(),
    "privacy_notice": frozenset({"advocate"}),
    "ask_referrer": frozenset(),
    "referrer_found": frozenset({"advocate"}),
    "referrer_not_found": frozenset({"again"}),
    "invite_link": frozenset({"invite"}),
    "invite_share_text": frozenset({"link", "code", "name"}),
    "invite_share_button": frozenset(),
    "invites_button": frozenset(),
    "invite_button": frozenset(),
    "invite_limit": frozenset({"max"}),
    "invites_list": frozenset({"invitations"}),
    "invites_none": frozenset(),
    "invite_revoke_button": frozenset({"invite"}),
    "invite_revoked": frozenset({"invite"}),
    "invite_revoke_unknown": frozenset(),
    "friends": frozenset({"friends", "total", "finished", "page", "pages"}),
    "friends_none": frozenset(),
    "friends_prev": frozenset(),
    "friends_next": frozenset(),
    "days_ago": frozenset({"days"}),
    "leaderboard": frozenset({"leaders", "mine"}),
    "privacy": frozenset({"invited", "shares", "public", "advocate"}),
    "privacy_share_on": frozenset(),
    "privacy_share_off": frozenset(),
    "privacy_public_on": frozenset(),
    "privacy_public_off": frozenset(),
    "alerts_status": frozenset({"on"}),
    "alerts_set": frozenset({"on"}),
    "alerts_turn_on": frozenset(),
    "alerts_turn_off": frozenset(),
    "alerts_friends_button": frozenset(),
    "alerts_stop_button": frozenset(),
    "alert_joined": frozenset({"friend"}),
    "alert_stage": frozenset({"friend"}),
    "alert_dormant": frozenset({"friend"}),
    "alert_digest": frozenset({"joined", "progressed", "dormant", "count", "others"}),
    "become_advocate": frozenset(),
    # typed answers (`input:` on a node)
    "input_not_url": frozenset(),
    "input_not_shortener": frozenset({"domains"}),
    "input_not_shorter": frozenset({"short", "long"}),
    "input_wrong_target": frozenset({"problem"}),
    "input_unverified": frozenset(),
}

# Variables the engine itself sets when someone arrives through a friend's invitation.
ENGINE_VARIABLES: Mapping[str, int] = {"invited": 5, "advocate_name": 64}
